/**
 * How the packaging tests read the installed firewall's rules, per backend: the same questions (how many rules of
 * ours, is only the boot-time ruleset loaded, is INPUT closed our way, do the rules name this address, is the host
 * open) asked of `iptables-save` or of `nft list ruleset`. A test asks one view and never the other backend's tool
 * for what its own holds.
 */
import { closes, nftBlock, nftCloses } from '../../harness/rulesets.js';

export type PackagedBackend = 'nftables' | 'iptables-nft';

export interface RulesView {
  readonly backend: PackagedBackend;
  /** The shell command whose output the other functions read (exits 0 with nothing of ours loaded too). */
  readonly command: string;
  /** Rules carrying our tsfw:<group> marker. */
  ours(listing: string): number;
  /** The empty marker chain of the boot-time ruleset (`start --early`) is there. */
  bootMarker(listing: string): boolean;
  /** INPUT ends in our counted drop, entered our way (harness/rulesets.ts). */
  closed(listing: string): boolean;
  /** The address-bound rules (anti-spoofing of MYIP) name `ip`. */
  boundTo(listing: string, ip: string): boolean;
  /** After stop: nothing of ours, and nothing closes INPUT (no policy of ours was ever set). */
  open(listing: string): boolean;
  /** `tsfirewall status` (and the SysV `service iptables status`) shows the loaded INPUT rules. */
  readonly statusShowsRules: RegExp;
}

const escaped = (ip: string) => ip.replace(/\./g, '\\.');

const iptablesView: RulesView = {
  backend: 'iptables-nft',
  command: 'iptables-save',
  ours: (save) => save.split('\n').filter((l) => l.includes('tsfw:')).length,
  bootMarker: (save) => /^:tsfw-boot /m.test(save),
  closed: (save) => closes(save),
  boundTo: (save, ip) => save.includes(`-s ${ip}/32`),
  open: (save) => !save.includes('tsfw') && /^:INPUT ACCEPT/m.test(save),
  statusShowsRules: /Chain tsfw-input \(\d+ rules\)[^]*-- the policy/,
};

/** Our table in `nft list ruleset` (empty when it is not loaded). */
const ourTable = (listing: string) => nftBlock(listing, 'table inet tsfirewall') ?? '';

const nftView: RulesView = {
  backend: 'nftables',
  command: 'nft list ruleset',
  ours: (listing) => ourTable(listing).split('\n').filter((l) => /comment "tsfw:[a-z0-9-]+"$/.test(l)).length,
  bootMarker: (listing) => /^\tchain tsfw-boot \{$/m.test(ourTable(listing)),
  closed: (listing) => nftCloses(listing),
  boundTo: (listing, ip) => new RegExp(`^\\t\\tip saddr ${escaped(ip)} counter packets \\d+ bytes \\d+ drop comment "tsfw:antispoof"$`, 'm').test(ourTable(listing)),
  // No table of ours, and no other table's input hook dropping either (the container has none).
  open: (listing) => !listing.includes('tsfirewall') && !listing.includes('tsfw') && !/hook input .*policy drop;/.test(listing),
  // status names the chain as the plan does, with the policy our last rule carries, then the rules by group.
  statusShowsRules: /^Chain INPUT \(policy DROP \d+ packets, \d+ bytes\)\n +pkts +bytes +rule\n[^]*-- services/m,
};

export const rulesView = (backend: PackagedBackend): RulesView => (backend === 'nftables' ? nftView : iptablesView);
