/**
 * The jails tsfirewall runs, derived from the config: one per service with bans, named `tsfw-<service>` so it can
 * never merge with a stock jail of the same name in jail.conf (fail2ban merges same-named sections silently).
 * Each jail knows where its bans live in the kernel: the sets or chains compile() creates, per family.
 */
import { banChainName, banSetName } from '../compile/plan.js';
import { bannedServices } from '../compile/recidive.js';
import type { Config, ServiceConfig } from '../config/types.js';
import type { BanTarget } from '../backend/types.js';
import type { Family } from '../model.js';

export type BanMode = 'ipset' | 'chain';

export interface JailSpec {
  readonly jail: string;
  readonly service: ServiceConfig;
  /** BAN_NAME: the <name> fail2ban passes to our action, giving f2b-NAME / fail2ban-NAME. */
  readonly banName: string;
  readonly mode: BanMode;
  /** Set (ipset mode) or chain (chain mode) per family; IPv6 only when IPV6=mirror builds an IPv6 ruleset with it. */
  readonly targets: Readonly<Partial<Record<Family, string>>>;
  /** Where the backend keeps these bans: a set, or the seed's chain of DROP rules. */
  readonly kind: BanTarget['kind'];
}

/** The jail's ban targets, one per family, as the backend's ban store takes them. */
export const banTargets = (j: JailSpec): BanTarget[] =>
  (Object.entries(j.targets) as [Family, string][]).map(([family, name]) => ({ family, name, kind: j.kind }));

export const JAIL_PREFIX = 'tsfw-';

/** Same rule compile() follows: an unsettled 'auto' is treated as the chain, which needs no extra program. */
export const banModeOf = (config: Pick<Config, 'banMode'>): BanMode => (config.banMode === 'ipset' ? 'ipset' : 'chain');

export function jailsOf(config: Config): JailSpec[] {
  const mode = banModeOf(config);
  const families: Family[] = config.ipv6 === 'mirror' ? ['ipv4', 'ipv6'] : ['ipv4'];
  return bannedServices(config).map((service) => ({
    jail: `${JAIL_PREFIX}${service.name}`,
    service,
    banName: service.bans!,
    mode,
    kind: mode === 'ipset' ? 'set' as const : 'chain' as const,
    targets: Object.fromEntries(families.map((f) => [f, mode === 'ipset' ? banSetName(service, f) : banChainName(service)])),
  }));
}

/** `--jail` accepts the jail name, the service name or the ban name, case-insensitively. */
export function findJail(jails: readonly JailSpec[], name: string): JailSpec | undefined {
  const wanted = name.toLowerCase();
  return jails.find((j) => [j.jail, j.service.name, j.banName].some((n) => n.toLowerCase() === wanted));
}
