/**
 * Bans as the kernel holds them: entries in the f2b sets (ipset mode) or DROP rules in the fail2ban-NAME chains
 * (chain mode). Used when fail2ban is not running (or must not be asked: 10k addresses at ~5 ms a fork each), for
 * listing, and for `status` counts. Writes are batched: `ipset restore` (one per core for a large batch) or one
 * `iptables-restore --noflush` however many addresses there are.
 */
import { availableParallelism } from 'node:os';
import { which } from '../../exec/which.js';
import { readSetHeaders } from './ipset-list.js';
import { ApplyError, NotInstalledError } from '../../errors.js';
import { run } from '../../exec/run.js';
import type { IpsetSpec } from '../../model.js';
import { ipsetCreateLine } from './ipset-text.js';
import { parseBanAddress, parseBanNetwork } from '../../bans/ip.js';

const SET_NAME = /^[A-Za-z0-9_-]{1,31}$/;

function ipsetProgram(): string {
  const ipset = which('ipset');
  if (!ipset) throw new NotInstalledError('the ipset program is not installed (install the ipset package)');
  return ipset;
}

/**
 * Refuses anything but one host address per entry (or a network, for a chain's `-s NET` rule): the text becomes
 * lines of an `ipset restore` script or an `iptables-restore` document.
 */
function checked(setName: string, ips: readonly string[], networks = false): string[] {
  if (!SET_NAME.test(setName)) throw new ApplyError(`bad set name "${setName}"`);
  return ips.map((ip) => {
    const parsed = (networks ? parseBanNetwork : parseBanAddress)(ip);
    if (!parsed) throw new ApplyError(`not a host address: "${ip}"`);
    return parsed.ip;
  });
}

/**
 * Lines per extra program. Below ~15k a second `ipset restore` gains nothing (its fork, a core shared with the
 * first); measured here: 10k in one 74 ms vs two 77 ms, 30k 155 vs 127, 100k 406 vs 300.
 */
const SHARD_LINES = 7500;

/** ipset's answer when the set exists with other settings than our create line's. */
const CREATE_REFUSED = /Error in line 2: Set cannot be created/;

/**
 * `ipset restore` asks the kernel for the set's type on every line it parses (one netlink round trip each) unless
 * the set was created in the same session, so each batch repeats the set's create line, which -exist turns into a
 * no-op on a set that is already so: 10k adds take 48 ms here instead of 93. The line comes second, after a real
 * one, so a missing set still fails the batch at line 1 instead of being created with no rule to use it. A set
 * made with other settings (fail2ban's own, an older build's) refuses the line; that batch is then sent again
 * without it, which is safe because every add and del is idempotent under -exist.
 */
async function restoreBatch(ipset: string, spec: IpsetSpec, lines: readonly string[]) {
  const fast = await run(ipset, ['restore', '-exist'], { input: lines[0] + ipsetCreateLine(spec) + lines.slice(1).join('') });
  if (fast.exitCode === 0 || !CREATE_REFUSED.test(fast.stderr)) return fast;
  return run(ipset, ['restore', '-exist'], { input: lines.join('') });
}

/**
 * A large batch is split into one program per core, all at once (ipset parses in userspace; the kernel serialises
 * the adds per set). Line order never matters (each line is one independent add or del), and a failure in one
 * shard is reported like a failure of the whole batch.
 */
async function ipsetRestore(spec: IpsetSpec, lines: readonly string[], what: string): Promise<void> {
  if (lines.length === 0) return;
  const ipset = ipsetProgram();
  const shards = Math.max(1, Math.min(availableParallelism(), Math.floor(lines.length / SHARD_LINES)));
  const size = Math.ceil(lines.length / shards);
  const results = await Promise.all(Array.from({ length: shards }, (_, i) =>
    restoreBatch(ipset, spec, lines.slice(i * size, (i + 1) * size))));
  const failed = results.find((r) => r.exitCode !== 0);
  if (failed) throw new ApplyError(`${what} failed: ${failed.stderr.trim() || failed.spawnError}`);
}

/**
 * Adds any number of addresses to a ban set in a batch (10k in ~85 ms from the call, ipset's share ~48 ms, where
 * fail2ban's per-ban command would take ~100 s). timeout 0 (the default) means until unbanned; a set member
 * already there gets the new timeout. Resolves to the number of entries sent.
 */
export async function loadBans(spec: IpsetSpec, ips: readonly string[], opts: { timeout?: number } = {}): Promise<number> {
  const entries = checked(spec.name, ips);
  const suffix = opts.timeout === undefined ? '' : ` timeout ${Math.max(0, Math.floor(opts.timeout))}`;
  await ipsetRestore(spec, entries.map((ip) => `add ${spec.name} ${ip}${suffix}\n`), `loading ${entries.length} bans into ${spec.name}`);
  return entries.length;
}

export async function removeFromSet(spec: IpsetSpec, ips: readonly string[]): Promise<void> {
  const entries = checked(spec.name, ips);
  await ipsetRestore(spec, entries.map((ip) => `del ${spec.name} ${ip}\n`), `removing bans from ${spec.name}`);
}

export async function flushSet(setName: string): Promise<void> {
  checked(setName, []);
  const result = await run(ipsetProgram(), ['flush', setName]);
  if (result.exitCode !== 0) throw new ApplyError(`flushing ${setName} failed: ${result.stderr.trim()}`);
}

/** One ban as the kernel holds it; `expiresIn` (seconds) only for a set entry with a timeout. */
import type { BanEntry } from '../types.js';

/** The members of an `ipset list` of one set: "IP timeout N" lines, where timeout 0 means until unbanned. */
export function parseSetMembers(listing: string): BanEntry[] {
  const members = listing.split('\nMembers:\n')[1] ?? '';
  return members.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
    const [ip, word, seconds] = l.split(/\s+/);
    const expiresIn = word === 'timeout' ? Number(seconds) : 0;
    return expiresIn > 0 ? { ip: ip!, expiresIn } : { ip: ip! };
  });
}

/** Members of a set, with the time each has left, or undefined when the set does not exist. */
export async function setMembers(setName: string): Promise<BanEntry[] | undefined> {
  const ipset = which('ipset');
  if (!ipset) return undefined;
  const result = await run(ipset, ['list', setName]);
  return result.exitCode === 0 ? parseSetMembers(result.stdout) : undefined;
}

export async function setExists(setName: string): Promise<boolean> {
  const ipset = which('ipset');
  return ipset !== undefined && (await run(ipset, ['list', '-t', setName])).exitCode === 0;
}

/** Entry counts of every set from one `ipset list -t` (headers only): cheap enough for `status`. */
export async function setCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [name, header] of (await readSetHeaders()) ?? []) {
    if (header.entries !== undefined) counts.set(name, header.entries);
  }
  return counts;
}

/** The addresses a chain drops, in rule order (duplicates kept: each needs its own delete). */
export function chainAddresses(saved: string, chain: string): string[] {
  // Chain names are [A-Za-z0-9_-] (config-validated), nothing to escape.
  const re = new RegExp(`^-A ${chain} -s (\\S+?)(?:/(?:32|128))? -j DROP$`);
  return saved.split('\n').map((l) => re.exec(l.trim())?.[1]).filter((ip): ip is string => ip !== undefined);
}

export async function chainMembers(iptables: string, chain: string): Promise<string[] | undefined> {
  const result = await run(iptables, ['-w', '5', '-S', chain]);
  return result.exitCode === 0 ? chainAddresses(result.stdout, chain) : undefined;
}

/**
 * Inserts (the seed's `-I fail2ban-NAME 1 -s IP -j DROP`) or deletes DROP rules in one `iptables-restore --noflush`;
 * deletes are computed from the current members because one missing rule would fail the whole batch.
 */
export async function editChain(iptables: string, restore: string, chain: string, op: 'add' | 'del', ips: readonly string[]): Promise<number> {
  const entries = checked('x', ips, true);
  const present = await chainMembers(iptables, chain);
  if (present === undefined) throw new ApplyError(`chain ${chain} does not exist (is the firewall started?)`);
  const have = new Set(present);
  const wanted = new Set(entries);
  const lines = op === 'add'
    ? [...wanted].filter((ip) => !have.has(ip)).map((ip) => `-I ${chain} 1 -s ${ip} -j DROP`)
    : present.filter((ip) => wanted.has(ip)).map((ip) => `-D ${chain} -s ${ip} -j DROP`);
  if (lines.length === 0) return 0;
  const result = await run(restore, ['-w', '5', '--noflush'], { input: `*filter\n${lines.join('\n')}\nCOMMIT\n` });
  if (result.exitCode !== 0) throw new ApplyError(`editing ${chain} failed: ${result.stderr.trim() || result.spawnError}`);
  return lines.length;
}

export async function flushChain(iptables: string, chain: string): Promise<void> {
  const result = await run(iptables, ['-w', '5', '-F', chain]);
  if (result.exitCode !== 0) throw new ApplyError(`flushing ${chain} failed: ${result.stderr.trim()}`);
}
