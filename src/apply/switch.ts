/**
 * Switching backend on a running host (iptables -> nftables, or back): once the new backend's ruleset is in, the
 * bans the old one holds are copied into the new sets with their time left, and only then is everything of the
 * old backend's removed. Between the two both rulesets filter (a packet must pass every table), so there is no
 * moment with the host open or a banned address let in.
 */
import { backendNamed } from '../backend/choose.js';
import type { BanEntry, BanTarget, FirewallBackend, LiveState } from '../backend/types.js';
import { BACKEND_NAMES, type BackendName } from '../config/types.js';
import { log } from '../log.js';
import type { Family } from '../model.js';

const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

/** Which backends could hold an older ruleset of ours: every other one whose tool is installed. */
async function others(current: BackendName): Promise<FirewallBackend[]> {
  const found = await Promise.all(BACKEND_NAMES.filter((n) => n !== current).map(async (n) => {
    const b = await backendNamed(n).catch(() => undefined);
    return b !== undefined && b.installed() && await b.mayHold() ? b : undefined;
  }));
  return found.filter((b): b is FirewallBackend => b !== undefined);
}

/** Another backend's ruleset of ours, as that backend reads it. */
export interface Holder { readonly backend: FirewallBackend; readonly live: LiveState }

/**
 * Every other installed backend that holds a ruleset of ours now: left by a change of BACKEND, or by an upgrade
 * that changed what BACKEND=auto means (it became nftables once the package pulled nft in). `sets`: ban sets whose
 * sizes to read; `candidates`: the backends to ask (tests), by default every other installed one. A backend whose
 * read fails holds nothing we can touch.
 */
export async function holdersBesides(current: BackendName, opts: { readonly sets?: readonly string[]; readonly candidates?: readonly FirewallBackend[] } = {}): Promise<Holder[]> {
  const candidates = (opts.candidates ?? await others(current)).filter((b) => b.name !== current);
  // Side by side: each read is its own programs, and none depends on another.
  const lives = await Promise.all(candidates.map((backend) => backend.readLive(FAMILIES, opts.sets ?? []).catch((err: unknown) => {
    log.debug(`reading ${backend.label}: ${(err as Error).message}`);
    return undefined;
  })));
  return candidates.flatMap((backend, i) => (lives[i]?.loaded ? [{ backend, live: lives[i]! }] : []));
}

/**
 * stop's share of a switch: removes the ruleset of ours every other backend still holds, so "stopped" means open
 * whichever backend loaded the rules. `sets`: the config's ban sets (an iptables backend's live outside its tables).
 * Resolves to the labels of the backends it emptied.
 */
export async function removeElsewhere(current: BackendName, sets: readonly string[], candidates?: readonly FirewallBackend[]): Promise<string[]> {
  const emptied: string[] = [];
  for (const { backend } of await holdersBesides(current, { candidates })) {
    await backend.remove({ families: FAMILIES, sets });
    emptied.push(backend.label);
  }
  return emptied;
}

/**
 * Takes over from any other backend that still holds a ruleset of ours. `targets`: the jails' ban targets on the
 * new backend (the same set and chain names live on every backend). Resolves to the backends taken over from.
 */
export async function takeOverFrom(current: FirewallBackend, targets: readonly BanTarget[], candidates?: readonly FirewallBackend[]): Promise<string[]> {
  const taken: string[] = [];
  for (const { backend: old } of await holdersBesides(current.name, { candidates })) {
    const moved = await copyBans(old, current, targets);
    await old.remove({ families: FAMILIES, sets: targets.filter((t) => t.kind === 'set').map((t) => t.name) });
    log.warn(`the ruleset ${old.label} held was replaced by ${current.label}'s${moved > 0 ? `, its ${moved} bans kept` : ''}`);
    taken.push(old.name);
  }
  return taken;
}

/** Every ban of the old backend's, into the same-named target of the new one, grouped by the time it has left. */
async function copyBans(from: FirewallBackend, to: FirewallBackend, targets: readonly BanTarget[]): Promise<number> {
  let n = 0;
  for (const target of targets) {
    // The old backend may have kept them in the other kind of target (an ipset vs the seed's chain).
    const members = (await from.bans.members(target)) ?? (await from.bans.members({ ...target, kind: target.kind === 'set' ? 'chain' : 'set' })) ?? [];
    for (const [timeout, ips] of byTimeout(members)) n += await to.bans.add(target, ips, timeout === 0 ? {} : { timeout });
  }
  return n;
}

function byTimeout(members: readonly BanEntry[]): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const m of members) {
    const list = groups.get(m.expiresIn ?? 0);
    if (list) list.push(m.ip);
    else groups.set(m.expiresIn ?? 0, [m.ip]);
  }
  return groups;
}
