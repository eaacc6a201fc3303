/**
 * Bans as the kernel holds them: entries in the f2b sets (ipset mode) or DROP rules in the fail2ban-NAME chains
 * (chain mode). Used when fail2ban is not running (or must not be asked: 10k addresses at ~5 ms a fork each), for
 * listing, and for `status` counts. Writes are batched: `ipset restore` (one per core for a large batch) or one
 * `iptables-restore --noflush` however many addresses there are.
 */
import { availableParallelism } from 'node:os';
import { readSetHeaders } from '../apply/ipset-headers.js';
import { which } from '../discover/backend.js';
import { ApplyError, NotInstalledError } from '../errors.js';
import { run } from '../exec/run.js';
import { parseBanAddress } from './ip.js';

const SET_NAME = /^[A-Za-z0-9_-]{1,31}$/;

function ipsetProgram(): string {
  const ipset = which('ipset');
  if (!ipset) throw new NotInstalledError('the ipset program is not installed (install the ipset package)');
  return ipset;
}

/** Refuses anything but one host address per entry: the text becomes lines of an `ipset restore` script. */
function checked(setName: string, ips: readonly string[]): string[] {
  if (!SET_NAME.test(setName)) throw new ApplyError(`bad set name "${setName}"`);
  return ips.map((ip) => {
    const parsed = parseBanAddress(ip);
    if (!parsed) throw new ApplyError(`not a host address: "${ip}"`);
    return parsed.ip;
  });
}

/** Below this many lines one program is quicker than the fork of a second (~10 ms here). */
const SHARD_LINES = 2500;

/**
 * `ipset restore` spends its time parsing lines in userspace (10k in ~95 ms here), so a large batch is split into
 * one program per core, all at once: the kernel serialises the adds per set. Line order never matters (each line
 * is one independent add or del), and a failure in one shard is reported like a failure of the whole batch.
 */
async function ipsetRestore(lines: readonly string[], what: string): Promise<void> {
  if (lines.length === 0) return;
  const ipset = ipsetProgram();
  const shards = Math.max(1, Math.min(availableParallelism(), Math.floor(lines.length / SHARD_LINES)));
  const size = Math.ceil(lines.length / shards);
  const results = await Promise.all(Array.from({ length: shards }, (_, i) =>
    run(ipset, ['restore', '-exist'], { input: lines.slice(i * size, (i + 1) * size).join('') })));
  const failed = results.find((r) => r.exitCode !== 0);
  if (failed) throw new ApplyError(`${what} failed: ${failed.stderr.trim() || failed.spawnError}`);
}

/**
 * Adds any number of addresses to a ban set in a batch (10k in ~100 ms, where fail2ban's per-ban command would
 * take ~100 s). timeout 0 (the default) means until unbanned; a set member already there gets
 * the new timeout. Resolves to the number of entries sent.
 */
export async function loadBans(setName: string, ips: readonly string[], opts: { timeout?: number } = {}): Promise<number> {
  const entries = checked(setName, ips);
  const suffix = opts.timeout === undefined ? '' : ` timeout ${Math.max(0, Math.floor(opts.timeout))}`;
  await ipsetRestore(entries.map((ip) => `add ${setName} ${ip}${suffix}\n`), `loading ${entries.length} bans into ${setName}`);
  return entries.length;
}

export async function removeFromSet(setName: string, ips: readonly string[]): Promise<void> {
  const entries = checked(setName, ips);
  await ipsetRestore(entries.map((ip) => `del ${setName} ${ip}\n`), `removing bans from ${setName}`);
}

export async function flushSet(setName: string): Promise<void> {
  checked(setName, []);
  const result = await run(ipsetProgram(), ['flush', setName]);
  if (result.exitCode !== 0) throw new ApplyError(`flushing ${setName} failed: ${result.stderr.trim()}`);
}

/** Members of a set (timeouts dropped), or undefined when the set does not exist. */
export async function setMembers(setName: string): Promise<string[] | undefined> {
  const ipset = which('ipset');
  if (!ipset) return undefined;
  const result = await run(ipset, ['list', setName]);
  if (result.exitCode !== 0) return undefined;
  const members = result.stdout.split('\nMembers:\n')[1] ?? '';
  return members.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((ip) => ip !== '');
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
  const entries = checked('x', ips);
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
