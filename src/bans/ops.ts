/**
 * What `bans`, `ban` and `unban` do to the kernel, per jail. The kernel's sets and chains are the truth here:
 * they hold fail2ban's bans and the ones loaded directly, and reading them costs no Python start-up.
 */
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { detectBackend, type Backend } from '../discover/backend.js';
import { UsageError } from '../errors.js';
import type { Family } from '../model.js';
import { resolveHostChoices } from '../cli/pipeline.js';
import { banSetSpec } from '../compile/plan.js';
import { RECENT_DIR } from '../status/recent.js';
import { ipsetTime } from './conf.js';
import type { BanAddress } from './ip.js';
import { jailsOf, type JailSpec } from './jails.js';
import { chainMembers, editChain, flushChain, flushSet, loadBans, removeFromSet, setExists, setMembers, type BanEntry } from './kernel.js';

export interface BanContext {
  readonly config: Config;
  readonly backend: Backend;
  readonly jails: readonly JailSpec[];
}

/** Config and backend only: no host discovery, these verbs never rebuild the ruleset. */
export async function banContext(configPath?: string): Promise<BanContext> {
  const config = resolveHostChoices(loadConfig(configPath).config);
  const jails = jailsOf(config);
  if (jails.length === 0) throw new UsageError('no service has bans (set SERVICE_<NAME>_BANS=yes)');
  return { config, backend: await detectBackend(config.backend), jails };
}

export interface JailBans {
  readonly jail: string;
  readonly service: string;
  readonly mode: JailSpec['mode'];
  readonly targets: JailSpec['targets'];
  /** Per family; undefined when the set/chain does not exist (firewall not started). */
  readonly addresses: Partial<Record<Family, string[]>>;
  /** Seconds left per banned address, for the set entries that expire (ipset mode); the rest last until unban. */
  readonly expiresIn: Readonly<Record<string, number>>;
}

export async function listBans(ctx: BanContext): Promise<JailBans[]> {
  return Promise.all(ctx.jails.map(async (j) => {
    const addresses: Partial<Record<Family, string[]>> = {};
    const expiresIn: Record<string, number> = {};
    for (const [family, target] of Object.entries(j.targets) as [Family, string][]) {
      const members = j.mode === 'ipset'
        ? await setMembers(target)
        : (await chainMembers(ctx.backend.cli[family], target))?.map((ip): BanEntry => ({ ip }));
      if (!members) continue;
      addresses[family] = members.map((m) => m.ip);
      for (const m of members) if (m.expiresIn !== undefined) expiresIn[m.ip] = m.expiresIn;
    }
    return { jail: j.jail, service: j.service.name, mode: j.mode, targets: j.targets, addresses, expiresIn };
  }));
}

function byFamily(addrs: readonly BanAddress[]): [Family, string[]][] {
  const groups: Record<Family, string[]> = { ipv4: [], ipv6: [] };
  for (const a of addrs) groups[a.family].push(a.ip);
  return (Object.entries(groups) as [Family, string[]][]).filter(([, ips]) => ips.length > 0);
}

/**
 * Straight into the kernel, bypassing fail2ban. In ipset mode the entry carries the jail's ban time, so it
 * expires as a fail2ban ban would; in chain mode it stays until `unban`.
 */
export async function banDirect(ctx: BanContext, jail: JailSpec, addrs: readonly BanAddress[]): Promise<number> {
  let n = 0;
  for (const [family, ips] of byFamily(addrs)) {
    const target = jail.targets[family];
    if (!target) throw new UsageError(`${ips[0]} is IPv6, but IPV6=${ctx.config.ipv6} has no IPv6 ban ${jail.mode === 'ipset' ? 'set' : 'chain'} (use IPV6=mirror)`);
    n += jail.mode === 'ipset'
      ? await loadBans(banSetSpec(target, family), ips, { timeout: ipsetTime(jail.service.jail.bantime) })
      : await editChain(ctx.backend.cli[family], ctx.backend.restore[family], target, 'add', ips);
  }
  return n;
}

/** Removes the addresses (or everything, with 'all') from the jails' sets/chains; missing ones are no error. */
export async function unbanDirect(ctx: BanContext, jails: readonly JailSpec[], addrs: readonly BanAddress[] | 'all'): Promise<void> {
  for (const j of jails) {
    for (const [family, target] of Object.entries(j.targets) as [Family, string][]) {
      const exists = j.mode === 'ipset' ? await setExists(target) : (await chainMembers(ctx.backend.cli[family], target)) !== undefined;
      if (!exists) continue;
      if (addrs === 'all') {
        await (j.mode === 'ipset' ? flushSet(target) : flushChain(ctx.backend.cli[family], target));
        continue;
      }
      const ips = addrs.filter((a) => a.family === family).map((a) => a.ip);
      if (ips.length === 0) continue;
      if (j.mode === 'ipset') await removeFromSet(banSetSpec(target, family), ips);
      else await editChain(ctx.backend.cli[family], ctx.backend.restore[family], target, 'del', ips);
    }
  }
}

/**
 * An unbanned host would still be cut by the hit-rate limiter for the rest of its window (its failed logins were
 * connections the limiter counted): forget it there too, so unban really lets it back. Writing "-ADDR" removes
 * one source from an xt_recent table; an address the table does not hold is no error.
 */
export function forgetHits(jails: readonly JailSpec[], addrs: readonly BanAddress[], dir = RECENT_DIR): void {
  const tables = new Set(jails.map((j) => j.service.rateLimit?.name).filter((n): n is string => n !== undefined));
  for (const table of tables) {
    for (const a of addrs) {
      try { writeFileSync(`${dir}/${table}`, `-${a.ip}\n`); } catch { /* not in the table, or no table */ }
    }
  }
}
