/**
 * The admin's own address, which no ruleset may shut out and no ban may catch. It comes from the SSH session the
 * command runs in (sshd sets SSH_CONNECTION); the addresses of recent sessions are remembered in the state
 * directory, so fail2ban's ignoreip still covers the admin when tsfirewall later runs from systemd with no session.
 * Bounded: the last 8 addresses, each forgotten 30 days after it was last seen.
 */
import ipaddr from 'ipaddr.js';
import { log } from '../log.js';
import { stateDir } from '../state/dirs.js';
import { readStateFile, writeStateFile } from '../state/write.js';

export interface SshSession {
  readonly client: string;
  readonly clientPort: number;
  readonly server: string;
  readonly serverPort: number;
}

const FILE = 'admin-sources.json';
const KEEP = 8;
const TTL_MS = 30 * 24 * 3600 * 1000;

/** SSH_CONNECTION is "client-ip client-port server-ip server-port"; anything else is no session. */
export function sshSession(env: NodeJS.ProcessEnv = process.env): SshSession | undefined {
  const parts = (env.SSH_CONNECTION ?? '').trim().split(/\s+/);
  if (parts.length !== 4) return undefined;
  const [client, cport, server, sport] = parts as [string, string, string, string];
  const ip = normalize(client);
  const srv = normalize(server);
  const port = (s: string) => (/^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined);
  if (!ip || !srv || port(cport) === undefined || port(sport) === undefined) return undefined;
  return { client: ip, clientPort: port(cport)!, server: srv, serverPort: port(sport)! };
}

/** This session's client address, if the command runs over SSH. */
export const sessionSource = (env: NodeJS.ProcessEnv = process.env) => sshSession(env)?.client;

interface Remembered { readonly ip: string; readonly lastSeen: number }

function remembered(dir: string, now: number): Remembered[] {
  try {
    const parsed = JSON.parse(readStateFile(dir, FILE) ?? '[]') as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((e): e is Remembered => typeof e?.ip === 'string' && normalize(e.ip) === e.ip &&
      typeof e.lastSeen === 'number' && now - e.lastSeen < TTL_MS);
  } catch {
    return [];
  }
}

/**
 * Addresses fail2ban must never ban: this session's client plus those remembered from recent sessions, newest
 * first. For jail `ignoreip` and for refusing `tsfirewall ban` on the admin.
 */
export function adminSources(env: NodeJS.ProcessEnv = process.env, dir = stateDir(env), now = Date.now()): string[] {
  const current = sessionSource(env);
  return [...new Set([...(current ? [current] : []), ...remembered(dir, now).map((e) => e.ip)])];
}

/** True when `ip` (any spelling, IPv4-mapped included) is one of adminSources(). */
export function isAdminSource(ip: string, env: NodeJS.ProcessEnv = process.env, dir = stateDir(env)): boolean {
  const n = normalize(ip);
  return n !== undefined && adminSources(env, dir).includes(n);
}

/** Records this session's client (start/reload do it). A write failure only warns: the session itself is checked live. */
export function rememberAdminSource(env: NodeJS.ProcessEnv = process.env, dir = stateDir(env), now = Date.now()): void {
  const ip = sessionSource(env);
  if (!ip) return;
  const list = [{ ip, lastSeen: now }, ...remembered(dir, now).filter((e) => e.ip !== ip)].slice(0, KEEP);
  try {
    writeStateFile(dir, FILE, JSON.stringify(list) + '\n');
  } catch (err) {
    log.warn(`could not remember the admin address ${ip} for fail2ban's ignoreip: ${(err as Error).message}`);
  }
}

function normalize(raw: string): string | undefined {
  const ip = raw.replace(/%.*$/, '');
  return ipaddr.isValid(ip) ? ipaddr.process(ip).toString() : undefined;
}
