/**
 * What `bans`, `ban` and `unban` do to the kernel, per jail. The kernel's sets and chains are the truth here:
 * they hold fail2ban's bans and the ones loaded directly, and reading them costs no Python start-up.
 */
import { detectBackend } from '../backend/choose.js';
import type { BanTarget, FirewallBackend } from '../backend/types.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { resolveHostChoices } from '../discover/choices.js';
import { UsageError } from '../errors.js';
import type { Family } from '../model.js';
import { ipsetTime } from './conf.js';
import { chainTimeLeft, forgetChainBans, recordChainBans } from './expiry.js';
import { expandBan, isNetworkBan, type BanAddress } from './ip.js';
import { banTargets, jailsOf, type JailSpec } from './jails.js';
import { countBans } from './tally.js';

export interface BanContext {
  readonly config: Config;
  readonly backend: FirewallBackend;
  readonly jails: readonly JailSpec[];
}

/** Config and backend only: no host discovery, these verbs never rebuild the ruleset. */
export async function banContext(configPath?: string): Promise<BanContext> {
  const loaded = loadConfig(configPath).config;
  const backend = await detectBackend(loaded.backend);
  const config = resolveHostChoices(loaded, backend.name);
  const jails = jailsOf(config);
  if (jails.length === 0) throw new UsageError('no service has bans (set SERVICE_<NAME>_BANS=yes)');
  return { config, backend, jails };
}

export interface JailBans {
  readonly jail: string;
  readonly service: string;
  readonly mode: JailSpec['mode'];
  readonly targets: JailSpec['targets'];
  /** Per family; undefined when the set/chain does not exist (firewall not started). */
  readonly addresses: Partial<Record<Family, string[]>>;
  /** Seconds left per banned address: set entries with a timeout, chain-mode direct bans with a recorded end. */
  readonly expiresIn: Readonly<Record<string, number>>;
}

export async function listBans(ctx: BanContext): Promise<JailBans[]> {
  return Promise.all(ctx.jails.map(async (j) => {
    const addresses: Partial<Record<Family, string[]>> = {};
    const expiresIn: Record<string, number> = {};
    for (const target of banTargets(j)) {
      const members = await ctx.backend.bans.members(target);
      if (!members) continue;
      addresses[target.family] = members.map((m) => m.ip);
      // A chain rule has no timeout of its own: a direct ban's end is in the ledger (bans/expiry.ts).
      const ledger = target.kind === 'chain' ? chainTimeLeft(target) : undefined;
      for (const m of members) {
        const left = m.expiresIn ?? ledger?.get(m.ip);
        if (left !== undefined) expiresIn[m.ip] = left;
      }
    }
    return { jail: j.jail, service: j.service.name, mode: j.mode, targets: j.targets, addresses, expiresIn };
  }));
}

/** Per family; a network as one entry for a chain (one `-s NET` rule), as its addresses for a set. */
function byFamily(addrs: readonly BanAddress[], kind: BanTarget['kind']): [Family, string[]][] {
  const groups: Record<Family, string[]> = { ipv4: [], ipv6: [] };
  for (const a of addrs) {
    if (kind === 'chain' || !isNetworkBan(a)) groups[a.family].push(a.ip);
    else groups[a.family].push(...expandBan(a));
  }
  return (Object.entries(groups) as [Family, string[]][]).filter(([, ips]) => ips.length > 0);
}

/**
 * Straight into the kernel, bypassing fail2ban. In ipset mode the entry carries the jail's ban time, so it
 * expires as a fail2ban ban would; in chain mode its end is recorded in the ledger, and the verbs lift it then.
 */
export async function banDirect(ctx: BanContext, jail: JailSpec, addrs: readonly BanAddress[], now = Date.now()): Promise<number> {
  let n = 0;
  for (const [family, ips] of byFamily(addrs, jail.kind)) {
    const name = jail.targets[family];
    if (!name) throw new UsageError(`${ips[0]} is IPv6, but IPV6=${ctx.config.ipv6} has no IPv6 ban ${jail.kind} (use IPV6=mirror)`);
    const target: BanTarget = { family, name, kind: jail.kind };
    n += await ctx.backend.bans.add(target, ips, jail.kind === 'set' ? { timeout: ipsetTime(jail.service.jail.bantime) } : {});
    if (jail.kind === 'chain') recordChainBans(target, ips, now + jail.service.jail.bantime * 1000);
  }
  countBans(jail.jail, { added: n });
  return n;
}

/**
 * Removes the addresses (or everything, with 'all') from the jails' sets/chains; missing ones are no error. What was
 * there is read first, so the ban tally counts the bans that were lifted, not the addresses asked for.
 */
export async function unbanDirect(ctx: BanContext, jails: readonly JailSpec[], addrs: readonly BanAddress[] | 'all'): Promise<void> {
  for (const j of jails) {
    let removed = 0;
    for (const target of banTargets(j)) {
      const ips = addrs === 'all' ? 'all'
        : addrs.filter((a) => a.family === target.family).flatMap((a) => (target.kind === 'chain' ? [a.ip] : expandBan(a)));
      const present = new Set((await ctx.backend.bans.members(target))?.map((m) => m.ip) ?? []);
      removed += ips === 'all' ? present.size : ips.filter((ip) => present.has(ip)).length;
      if (ips === 'all') await ctx.backend.bans.flush(target);
      else await ctx.backend.bans.remove(target, ips);
      if (target.kind === 'chain') forgetChainBans(target, ips);
    }
    countBans(j.jail, { removed });
  }
}

/**
 * An unbanned host would still be cut by the hit-rate limiter for the rest of its window (its failed logins were
 * connections the limiter counted): forget it there too, so unban really lets it back.
 */
export async function forgetHits(ctx: BanContext, jails: readonly JailSpec[], addrs: readonly BanAddress[]): Promise<void> {
  const tables = [...new Set(jails.map((j) => j.service.rateLimit?.name).filter((n): n is string => n !== undefined))];
  // The limiter remembers hosts; a network's hosts are too many to look up one by one and go with its window.
  const hosts = addrs.filter((a) => !isNetworkBan(a));
  if (tables.length > 0 && hosts.length > 0) await ctx.backend.clearLimiter(tables, hosts.map((a) => a.ip));
}
