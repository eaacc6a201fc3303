/**
 * Every live inbound SSH session this host has, whoever runs tsfirewall and from where: the kernel's (established
 * connections to the listening sockets of processes named sshd, from files under /proc only: no program on the hot
 * path) and the environment's (SSH_CONNECTION, then SSH_CLIENT, which sudo's env_reset, systemctl and the address
 * watcher drop). The lock-out guard checks each; the ban guard and fail2ban's ignoreip take the logged-in ones.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { sshSession, type SshSession } from './admin.js';
import { isLoggedInTitle, parseProcNetTcp, sessionsOn, TCP_LISTEN, type KernelSession } from './proc-net.js';

export interface LiveSession extends SshSession {
  /** Where it was found: the command's own environment, or the kernel's socket table. */
  readonly via: 'SSH_CONNECTION' | 'SSH_CLIENT' | 'kernel';
  /** Past authentication (an environment session always is: sshd sets it for a logged-in user). */
  readonly loggedIn: boolean;
}

export interface SessionSources {
  readonly env?: NodeJS.ProcessEnv;
  readonly procRoot?: string;
  /** The server address for an SSH_CLIENT session (which names no server) that the kernel does not show. */
  readonly serverFallback?: string;
  readonly interfaces?: typeof networkInterfaces;
}

interface SshdProcess { readonly sockets: ReadonlySet<number>; readonly title: string }

/**
 * Processes whose comm starts with "sshd" (sshd, sshd-session), with the socket inodes they hold. Paths are put
 * together as text, not with path.join, whose normaliser a join per process made hot enough for TurboFan.
 */
function sshdProcesses(proc: string): SshdProcess[] {
  let pids: string[];
  try { pids = readdirSync(proc).filter((d) => /^\d+$/.test(d)); } catch { return []; }
  const root = proc.endsWith('/') ? proc : `${proc}/`;
  const out: SshdProcess[] = [];
  for (const pid of pids) {
    try {
      if (!readFileSync(`${root}${pid}/comm`, 'utf8').startsWith('sshd')) continue;
      const sockets = new Set<number>();
      for (const fd of readdirSync(`${root}${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(safeReadlink(`${root}${pid}/fd/${fd}`));
        if (m) sockets.add(Number(m[1]));
      }
      out.push({ sockets, title: readFileSync(`${root}${pid}/cmdline`, 'utf8') });
    } catch { /* the process ended while we looked, or is not ours to read */ }
  }
  return out;
}

const safeReadlink = (path: string) => { try { return readlinkSync(path); } catch { return ''; } };

/** The kernel's SSH sessions in this network namespace, each marked logged-in when an sshd holding it says so. */
export function kernelSessions(procRoot = '/proc'): (KernelSession & { loggedIn: boolean })[] {
  const sockets = ['tcp', 'tcp6'].flatMap((f) => {
    try { return parseProcNetTcp(readFileSync(join(procRoot, 'net', f), 'utf8')); } catch { return []; }
  });
  // Only a connection to a listening socket of this namespace can be a session. Without one (at boot, from a timer,
  // in a lab) no process is looked at: the scan reads a file of every process, enough calls into node:fs for V8 to
  // compile one of its helpers with TurboFan, whose code and memory the verb's peak RSS then carried. The two tables
  // cost more time than the scan (the kernel walks its whole hash table), but in start that is beside the snapshot's
  // programs, and on a host with an SSH listener and a session both are read anyway.
  const listening = new Set(sockets.filter((s) => s.state === TCP_LISTEN).map((s) => s.inode));
  if (sessionsOn(sockets, listening).length === 0) return [];
  const sshd = sshdProcesses(procRoot);
  if (sshd.length === 0) return [];
  const inodes = new Set(sshd.flatMap((p) => [...p.sockets]));
  return sessionsOn(sockets, inodes).map((s) => ({
    ...s, loggedIn: sshd.some((p) => p.sockets.has(s.inode) && isLoggedInTitle(p.title)),
  }));
}

/** SSH_CLIENT is "client-ip client-port server-port": no server address. */
function sshClient(env: NodeJS.ProcessEnv): { client: string; clientPort: number; serverPort: number } | undefined {
  const parts = (env.SSH_CLIENT ?? '').trim().split(/\s+/);
  if (parts.length !== 3) return undefined;
  const probe = sshSession({ SSH_CONNECTION: `${parts[0]} ${parts[1]} 0.0.0.0 ${parts[2]}` });
  return probe && { client: probe.client, clientPort: probe.clientPort, serverPort: probe.serverPort };
}

/**
 * All live sessions, the environment's first (deduplicated against the kernel's, which supplies SSH_CLIENT's server).
 * Kernel sessions to an address no interface has any more are left out: they died with the address, and the
 * address watcher's reload after a new lease must not be refused for them.
 */
export function liveSessions(src: SessionSources = {}): LiveSession[] {
  const env = src.env ?? process.env;
  const kernel = kernelSessions(src.procRoot);
  const local = new Set(Object.values((src.interfaces ?? networkInterfaces)()).flatMap((a) => (a ?? []).map((x) => canonical(x.address))));
  const out: LiveSession[] = [];
  const fromEnv = sshSession(env);
  const client = fromEnv ? undefined : sshClient(env);
  if (fromEnv) out.push({ ...fromEnv, via: 'SSH_CONNECTION', loggedIn: true });
  else if (client) {
    const seen = kernel.find((k) => k.client === client.client && k.clientPort === client.clientPort && k.serverPort === client.serverPort);
    const server = seen?.server ?? src.serverFallback;
    if (server !== undefined) out.push({ ...client, server, via: 'SSH_CLIENT', loggedIn: true });
  }
  for (const k of kernel) {
    if (out.some((s) => s.client === k.client && s.clientPort === k.clientPort && s.serverPort === k.serverPort)) continue;
    if (!local.has(canonical(k.server))) continue;
    out.push({ client: k.client, clientPort: k.clientPort, server: k.server, serverPort: k.serverPort, via: 'kernel', loggedIn: k.loggedIn });
  }
  return out;
}

/** The sessions that are the admin's: logged in. A connection still at the password prompt may be an attacker's. */
export const adminSessions = (sessions: readonly LiveSession[]) => sessions.filter((s) => s.loggedIn);

function canonical(ip: string): string {
  const text = ip.replace(/%.*$/, '');
  return ipaddr.isValid(text) ? ipaddr.process(text).toString() : text;
}
