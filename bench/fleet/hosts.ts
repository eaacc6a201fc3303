/**
 * The fleet bench's hosts: a lab namespace with tsfirewall on nftables and its fleet service, the outbox a ban verb
 * writes, and an `nft monitor` per receiver that stamps each set element as the kernel announces it, per table, so
 * the fleet's set and a peer's (CrowdSec's bouncer, in the same namespace) are timed by the same watcher.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Host } from '../../test/harness/netns.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** The Node options tsfirewall-fleet.service runs the service with, so the bench measures it as shipped. */
export const NODE_OPTIONS = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(repo, 'systemd/tsfirewall-fleet.service'), 'utf8'))?.[1]?.replace(/^"|"$/g, '') ?? '';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The nft table whose elements a watcher stamps: tsfirewall's own, or the CrowdSec bouncer's. */
export type Watched = 'tsfirewall' | 'crowdsec';

export interface BHost {
  name: string;
  host: Host;
  env: Record<string, string>;
  config: string;
  state: string;
  service?: ChildProcess;
  /** When each address first appeared in tsfirewall's set (Date.now() ms). */
  seen: Map<string, number>;
  /** The same for the CrowdSec bouncer's set in this namespace. */
  crowdsecSeen: Map<string, number>;
  monitor?: ChildProcess;
}

const seenOf = (h: BHost, table: Watched) => (table === 'tsfirewall' ? h.seen : h.crowdsecSeen);

/** What the ban verbs do after the kernel has the ban (src/bans/outbox.ts's file, as queueLines writes it). */
export function queue(h: BHost, ips: readonly string[]): number {
  const dir = join(h.state, 'fleet-outbox');
  const now = Date.now();
  const name = `${(now / 1000).toFixed(3)}.bench.${process.pid}.${Math.random().toString(16).slice(2, 8)}`;
  writeFileSync(join(dir, 'tmp', name), ips.map((ip) => JSON.stringify({ op: 'ban', jail: 'ssh', ip, at: now / 1000, bantime: 3600, reason: 'bench' })).join('\n') + '\n');
  renameSync(join(dir, 'tmp', name), join(dir, 'new', name));
  return now;
}

/** One `nft monitor elements` in the host's namespace: no poll adds its period to what is timed. */
export function watchSet(h: BHost): void {
  h.monitor = spawn('ip', ['netns', 'exec', h.host.ns, 'nft', 'monitor', 'elements'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A watcher that lost events (netlink's buffer overrun) would say so here, and would skew every figure.
  h.monitor.stderr!.setEncoding('utf8').on('data', (c: string) => process.stderr.write(`nft monitor on ${h.name}: ${c}`));
  let rest = '';
  h.monitor.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const now = Date.now();
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      // "add element inet tsfirewall f2b-SSH { ... }", "add element ip crowdsec crowdsec-blacklists { ... }"
      const table = /^add element \S+ (\S+) /.exec(l)?.[1];
      if (table !== 'tsfirewall' && table !== 'crowdsec') continue;
      const seen = seenOf(h, table);
      for (const ip of l.match(/\d+\.\d+\.\d+\.\d+/g) ?? []) if (!seen.has(ip)) seen.set(ip, now);
    }
  });
}

/** When the last of `ips` arrived in `table` on each host, or undefined for a host still without all after `ceiling`. */
export async function seenBy(hs: readonly BHost[], ips: readonly string[], ceiling: number, table: Watched = 'tsfirewall'): Promise<(number | undefined)[]> {
  const has = (h: BHost) => ips.every((ip) => seenOf(h, table).has(ip));
  for (const deadline = Date.now() + ceiling; Date.now() < deadline && !hs.every(has);) await sleep(5);
  return hs.map((h) => (has(h) ? Math.max(...ips.map((ip) => seenOf(h, table).get(ip)!)) : undefined));
}

/** The same where every host must have them: a miss is an error. */
export async function allSeen(hs: readonly BHost[], ips: readonly string[], ceiling: number, table: Watched = 'tsfirewall'): Promise<number[]> {
  const times = await seenBy(hs, ips, ceiling, table);
  const missed = hs.filter((_, i) => times[i] === undefined).map((h) => h.name);
  if (missed.length) throw new Error(`not all ${ips.length} bans arrived in table ${table} on ${missed.join(', ')} within ${ceiling} ms`);
  return times as number[];
}

/** Where each watched table keeps its bans, for asking the kernel itself. */
const SETS: Record<Watched, readonly string[]> = { tsfirewall: ['inet', 'tsfirewall', 'f2b-SSH'], crowdsec: ['ip', 'crowdsec', 'crowdsec-blacklists'] };

/** Whether `ip` is in `table`'s set on `h` now, by the kernel's word rather than the watcher's. */
export function inSet(h: BHost, ip: string, table: Watched): boolean {
  const [family, name, set] = SETS[table];
  return spawnSync('ip', ['netns', 'exec', h.host.ns, 'nft', 'get', 'element', family!, name!, set!, `{ ${ip} }`], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

export async function startService(h: BHost, cli: string): Promise<void> {
  h.service = spawn('ip', ['netns', 'exec', h.host.ns, process.execPath, cli, '--config', h.config, 'fleet'], { env: { ...h.env, ...(NODE_OPTIONS ? { NODE_OPTIONS } : {}) }, stdio: 'ignore' });
}

export async function stopService(h: BHost): Promise<void> {
  const s = h.service;
  h.service = undefined;
  if (!s || s.exitCode !== null) return;
  await new Promise<void>((resolve) => { s.once('exit', () => resolve()); s.kill('SIGTERM'); setTimeout(() => { s.kill('SIGKILL'); resolve(); }, 30_000).unref(); });
}

export async function waitStatus(h: BHost, ok: (s: any) => boolean, ceiling: number): Promise<void> {
  for (const deadline = Date.now() + ceiling; Date.now() < deadline; await sleep(250)) {
    try { if (ok(JSON.parse(readFileSync(join(h.state, 'fleet-status.json'), 'utf8')))) return; } catch { /* not written yet */ }
  }
  throw new Error(`${h.name}: status not reached within ${ceiling} ms`);
}

export const caughtUp = (h: BHost) => waitStatus(h, (s) => s.connection.state === 'connected' && s.catchUp.done, 120_000);
