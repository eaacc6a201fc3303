/**
 * The programs of one iptables flavour. Both ship on Debian and RHEL, and rules must go where `iptables -L` (and
 * fail2ban's own actions) will look, so each flavour's own binaries are used when installed (iptables-nft-save...),
 * the generic names otherwise.
 */
import { which } from '../../exec/which.js';
import type { Family } from '../../model.js';

export type Flavour = 'nft' | 'legacy';

export interface IptablesPrograms {
  readonly flavour: Flavour;
  readonly save: Readonly<Record<Family, string>>;
  readonly restore: Readonly<Record<Family, string>>;
  /** Plain `iptables`/`ip6tables` of the same flavour, for per-command fallbacks and chain listings. */
  readonly cli: Readonly<Record<Family, string>>;
}

/** The flavour's programs by name (looked up on PATH when run, so tests can put fakes first). */
export function programsFor(flavour: Flavour): IptablesPrograms {
  const named = (base: string) => (which(`${base}-${flavour}`) ? `${base}-${flavour}` : base);
  return {
    flavour,
    save: { ipv4: named('iptables') + '-save', ipv6: named('ip6tables') + '-save' },
    restore: { ipv4: named('iptables') + '-restore', ipv6: named('ip6tables') + '-restore' },
    cli: { ipv4: named('iptables'), ipv6: named('ip6tables') },
  };
}
