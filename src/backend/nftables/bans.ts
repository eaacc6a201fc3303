/**
 * Bans as elements of the sets in our table, read and edited without fail2ban: each batch, however large, is one
 * `nft -f -` (one transaction: all of it or none), through nft.ts; a large one is first offered as a create, which
 * the kernel takes only when none of its addresses is there yet. Only strictly parsed host addresses of the set's
 * family go into the text.
 */
import { parseBanAddress } from '../../bans/ip.js';
import { ApplyError } from '../../errors.js';
import type { BanEntry, BanStore, BanTarget } from '../types.js';
import { BAN_CHAIN_PREFIX, TABLE_REF, banSet } from './layout.js';
import { nft, nftPath } from './nft.js';
import { parseTable } from './parse.js';
import { ident } from './rules.js';

/** What nft says for a set (or table) that is not there: the firewall is not started on nftables. */
const MISSING = /No such file or directory/;
/** What nft says when a `create` names an element that is already there. */
const PRESENT = /File exists/;

/**
 * From this many addresses a batch is first sent as createBatch: most large batches are new bans (`ban -` of a
 * list, bans restored into a fresh set, a burst from the fleet), and the triple's extra work on them outweighs a
 * refused create and a second program when some are there after all (docs/backends.md has the figures).
 */
export const CREATE_FIRST = 1000;

/** Elements per command: keeps every line short enough to read in an error message. */
const CHUNK = 1024;

/** Chain mode is an iptables notion: on nftables a chain target's bans live in the same set ipset mode uses. */
export function setOf(target: BanTarget): string {
  return ident(target.kind === 'chain' && target.name.startsWith(BAN_CHAIN_PREFIX)
    ? banSet(target.name.slice(BAN_CHAIN_PREFIX.length), target.family) : target.name);
}

/** Canonical addresses, each once; the whole list is refused if any one is not a host of the target's family. */
export function checkedAddresses(target: BanTarget, ips: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of ips) {
    const parsed = parseBanAddress(raw);
    if (!parsed) throw new ApplyError(`not a host address: "${raw}"`);
    if (parsed.family !== target.family) throw new ApplyError(`${parsed.ip} is ${parsed.family === 'ipv4' ? 'IPv4' : 'IPv6'}, not for ${setOf(target)}`);
    out.add(parsed.ip);
  }
  return [...out];
}

/** The elements as the brace lists of CHUNK each, joined once: a batch names each list in two or three commands. */
const lists = (elements: readonly string[]) => Array.from({ length: Math.ceil(elements.length / CHUNK) }, (_, i) => elements.slice(i * CHUNK, (i + 1) * CHUNK).join(', '));
const commandsOf = (verb: 'add' | 'create' | 'delete', set: string, joined: readonly string[]) => joined.map((c) => `${verb} element ${TABLE_REF} ${set} { ${c} }\n`).join('');
const commands = (verb: 'add' | 'delete', set: string, elements: readonly string[]) => commandsOf(verb, set, lists(elements));

/**
 * add, delete, add again: the first add makes the delete safe for an address not yet there (a delete of a missing
 * element fails the whole transaction, and nft 1.0.6 has no `destroy`), and the second sets the new timeout, which
 * an add of an existing element does not renew on kernels before 6.12 (Debian 12 runs 6.1). `timeout` undefined
 * or 0: until removed.
 */
export function addBatch(set: string, ips: readonly string[], timeout?: number): string {
  const seconds = Math.max(0, Math.floor(timeout ?? 0));
  const plain = lists(ips);
  const timed = seconds > 0 ? lists(ips.map((ip) => `${ip} timeout ${seconds}s`)) : plain;
  return commandsOf('add', set, plain) + commandsOf('delete', set, plain) + commandsOf('add', set, timed);
}

/**
 * A batch of addresses none of which is in the set yet, as one `create` per brace list: nft's add that fails the
 * whole transaction (File exists) when any element is already there. A third of addBatch's work for the kernel and
 * nft; the caller falls back to addBatch when it is refused.
 */
export function createBatch(set: string, ips: readonly string[], timeout?: number): string {
  const seconds = Math.max(0, Math.floor(timeout ?? 0));
  return commandsOf('create', set, lists(seconds > 0 ? ips.map((ip) => `${ip} timeout ${seconds}s`) : ips));
}

/** add then delete: an address already gone (unbanned, or expired a moment ago) is no error. */
export function removeBatch(set: string, ips: readonly string[]): string {
  const plain = lists(ips);
  return commandsOf('add', set, plain) + commandsOf('delete', set, plain);
}

/**
 * A set's members put back as they are now, each with its own time left: a rollback loads the snapshot's listing,
 * whose sets hold the bans of the moment it was taken, and this carries over what fail2ban or `ban` changed since.
 * An element about to expire (under a second left) is not carried.
 */
export function carryBatch(set: string, entries: readonly BanEntry[]): string {
  const kept = entries.filter((e) => e.expiresIn === undefined || e.expiresIn >= 1);
  const text = kept.map((e) => (e.expiresIn === undefined ? e.ip : `${e.ip} timeout ${Math.floor(e.expiresIn)}s`));
  return `flush set ${TABLE_REF} ${ident(set)}\n${commands('add', ident(set), text)}`;
}

/** The seam's BanStore over nft; `nft` names the program to run (by default the system's nft, in process). */
export function nftBanStore(opts: { readonly nft?: string } = {}): BanStore {
  /** Resolves false when `refusedIf` matches nft's refusal (the caller has another way), else throws it. */
  const send = async (set: string, text: string, what: string, refusedIf?: RegExp): Promise<boolean> => {
    const r = await nft(['-f', '-'], text, opts.nft);
    if (r.exitCode === 0) return true;
    if (refusedIf?.test(r.stderr)) return false;
    const why = MISSING.test(r.stderr) ? `set ${set} does not exist (is the firewall started?)` : r.stderr.trim() || r.spawnError;
    throw new ApplyError(`${what} failed: ${why}`);
  };
  return {
    async members(target, readOpts = {}): Promise<BanEntry[] | undefined> {
      const set = setOf(target);
      const r = await nft(['-j', 'list', 'set', ...TABLE_REF.split(' '), set], undefined, opts.nft ?? (readOpts.apart ? nftPath() : undefined));
      if (r.exitCode !== 0 && MISSING.test(r.stderr)) return undefined;
      if (r.exitCode !== 0) throw new ApplyError(`listing ${set} failed: ${r.stderr.trim() || r.spawnError}`);
      return parseTable(r.stdout).bans.get(set) ?? [];
    },
    async add(target, ips, addOpts = {}) {
      const set = setOf(target);
      const entries = checkedAddresses(target, ips);
      if (entries.length === 0) return 0;
      const what = `loading ${entries.length} bans into ${set}`;
      const created = entries.length >= CREATE_FIRST && await send(set, createBatch(set, entries, addOpts.timeout), what, PRESENT);
      if (!created) await send(set, addBatch(set, entries, addOpts.timeout), what);
      return entries.length;
    },
    async remove(target, ips) {
      const set = setOf(target);
      const entries = checkedAddresses(target, ips);
      if (entries.length > 0) await send(set, removeBatch(set, entries), `removing bans from ${set}`);
    },
    async flush(target) {
      const set = setOf(target);
      await send(set, `flush set ${TABLE_REF} ${set}\n`, `flushing ${set}`);
    },
    async holds(target, ip) {
      const set = setOf(target);
      const [entry] = checkedAddresses(target, [ip]);
      const r = await nft(['get', 'element', ...TABLE_REF.split(' '), set, `{ ${entry} }`], undefined, opts.nft);
      if (r.exitCode === 0) return true;
      if (MISSING.test(r.stderr)) return false;
      throw new ApplyError(`looking up ${entry} in ${set} failed: ${r.stderr.trim() || r.spawnError}`);
    },
  };
}
