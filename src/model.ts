/**
 * The ruleset model: plain immutable data produced by the pure compiler and consumed by renderers.
 * Nothing here knows about iptables syntax, so an nft renderer can be added without touching compile.
 */
export type Family = 'ipv4' | 'ipv6';

/** How the seed annotates its rules; status groups by it and every rule carries it as a comment. */
export type Group =
  | 'loopback' | 'antispoof' | 'friends' | 'unicast' | 'bans' | 'replies' | 'icmp' | 'services' | 'dropped' | 'nat'
  | 'helpers'
  /** Interfaces trusted whole, port forwards (DNAT and their forward accept), routed traffic, what may leave. */
  | 'interfaces' | 'forwards' | 'routes' | 'egress'
  /** Rules of the admin's raw snippets (/etc/tsfirewall.d/NAME.POINT.nft|rules), and the network blocklists. */
  | 'snippet' | 'blocklist'
  /** A backend's own: the final drop that stands for a chain's DROP policy, and the jump into our chains. */
  | 'policy' | 'jump';

export interface AddrMatch { readonly cidr: string; readonly negate?: boolean }

/**
 * The hit-rate limiter, said once: of the packets that reach the rule and match the rest of it, each source
 * address gets at most `hits` per `seconds` (behind the replies accept those are new connections); the rest are
 * dropped by the rule itself, counted apart (marker role `limit`), and those under the limit take the rule's
 * target. Rules naming the same `name` share one count. Each backend renders it its own way, described and
 * measured in docs/backends.md ("The hit-rate limiter"): iptables as xt_recent's `--update` DROP then `--set`
 * rule, nftables as a window and a hold set.
 */
export interface RateLimit {
  readonly name: string;
  readonly hits: number;
  readonly seconds: number;
}

export interface Match {
  readonly inIface?: string;
  readonly outIface?: string;
  readonly src?: AddrMatch;
  readonly dst?: AddrMatch;
  readonly proto?: 'tcp' | 'udp' | 'icmp' | 'ipv6-icmp';
  /** Port numbers or "lo:hi" ranges; one entry renders as -m tcp, several as -m multiport. */
  readonly dports?: readonly string[];
  /** DNAT: the connection's destination was rewritten (a port forward's, on its way to the target). */
  readonly ctstate?: readonly ('NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'DNAT')[];
  /** At most so many per source in a window, the rest dropped here (see RateLimit): SERVICE_<NAME>_RATE_LIMIT. */
  readonly rateLimit?: RateLimit;
  /** Source address is in this ipset (the ban sets). */
  readonly srcSet?: string;
  readonly icmpType?: string;
  /** At most this many matches per unit of time, after a burst (xt_limit): keeps LOG rules from flooding. */
  readonly limit?: { readonly rate: string; readonly burst: number };
}

export type Target =
  | { readonly kind: 'ACCEPT' }
  | { readonly kind: 'DROP' }
  | { readonly kind: 'RETURN' }
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'LOG'; readonly prefix: string }
  | { readonly kind: 'SNAT'; readonly to: string }
  | { readonly kind: 'MASQUERADE' }
  /** Destination NAT to "addr" or "addr:port" (a port forward). */
  | { readonly kind: 'DNAT'; readonly to: string }
  /** Attach a connection-tracking helper (raw table), e.g. ftp, so its data connections become RELATED. */
  | { readonly kind: 'CT'; readonly helper: string }
  /**
   * A raw snippet's rule, in the words of the one tool it was written for (nft, or iptables-restore after
   * `-A CHAIN`): the whole rule, matches and verdict, so its Match is empty. Only that backend's plan holds it.
   */
  | { readonly kind: 'RAW'; readonly text: string };

export interface Rule {
  readonly chain: string;
  readonly match: Match;
  readonly target: Target;
  readonly group: Group;
  /** The service (SERVICES name) the rule was built for: its marker names it, so counters add up per service. */
  readonly service?: string;
  /** Where a snippet's rule was written ("50-web.before.nft:3"): its marker carries it into the kernel. */
  readonly origin?: string;
}

export type TableName = 'filter' | 'nat' | 'raw';

export interface Chain {
  readonly name: string;
  /** Built-in chains have a policy; user chains have none. */
  readonly policy?: 'ACCEPT' | 'DROP';
}

export interface Table {
  readonly name: TableName;
  readonly chains: readonly Chain[];
  readonly rules: readonly Rule[];
}

export interface Ruleset {
  readonly family: Family;
  readonly tables: readonly Table[];
}

/** An ipset the ruleset refers to; created (never flushed) before the rules load so bans survive. */
export interface IpsetSpec {
  readonly name: string;
  readonly family: 'inet' | 'inet6';
  readonly type: 'hash:ip' | 'hash:net';
  readonly maxelem: number;
}

/** Everything `start` must bring about, as data. */
export interface Plan {
  readonly rulesets: readonly Ruleset[];
  readonly ipsets: readonly IpsetSpec[];
  /** User chains whose entries belong to the ban daemon: reload carries their rules over. */
  readonly banChains: readonly string[];
  readonly modules: readonly string[];
  readonly warnings: readonly string[];
}

/** The comment marker that identifies our rules in the kernel; status and stop look for it. */
export const MARK = 'tsfw';

/** What a rule of a service does, beyond its group, where its counters mean something else: limiter drops, logs. */
export type MarkerRole = 'limit' | 'log';

/** A marker read back: `tsfw:<group>[:<service>[:<role>]]`, or a snippet's `tsfw:snippet:<file>:<line>`. */
export interface Marker { readonly group: string; readonly service?: string; readonly role?: MarkerRole; readonly origin?: string }

/**
 * The comment every rule of ours carries, so the kernel itself says which group, which service and which role each
 * counter belongs to (metrics add them up from the live ruleset alone): `tsfw:services:ssh:limit` is SSH's
 * hit-rate limiter drop. Rules loaded before services were named carry `tsfw:<group>` only, and read the same.
 * `role`: what this line of the rule does, where a backend makes several of one rule (the limiter's drops).
 */
export function markerOf(rule: Pick<Rule, 'group' | 'service' | 'target' | 'origin'>, role?: MarkerRole): string {
  // A snippet's rule names its file and line: the kernel says where it came from, and a tool's refusal of a
  // document line can be traced back to the snippet's line (backend/snippet-errors.ts).
  if (rule.origin !== undefined) return `${MARK}:${rule.group}:${rule.origin}`;
  if (rule.service === undefined) return `${MARK}:${rule.group}`;
  const of: MarkerRole | undefined = role ?? (rule.target.kind === 'LOG' ? 'log' : undefined);
  return [MARK, rule.group, rule.service, ...(of ? [of] : [])].join(':');
}

/** The marker's text inside a comment, for each backend's one parser (unanchored: iptables-save may quote it). */
export const MARKER_TEXT = `${MARK}:(\\w+)(?::(?:([a-z][a-z0-9]*)(?::(limit|log))?|([A-Za-z0-9][A-Za-z0-9_.-]*:\\d+)))?`;

/** A comment's marker, or undefined when the comment is not ours. */
export function parseMarker(comment: string): Marker | undefined {
  const m = MARKER.exec(comment);
  if (!m) return undefined;
  return { group: m[1]!, ...(m[2] ? { service: m[2] } : {}), ...(m[3] ? { role: m[3] as MarkerRole } : {}), ...(m[4] ? { origin: m[4] } : {}) };
}
const MARKER = new RegExp(`^${MARKER_TEXT}$`);

/**
 * An empty filter chain that only the boot-time ruleset (`start --early`, no address known yet) declares: the
 * kernel itself then says which ruleset is loaded, and the full one, which does not declare it, removes it.
 */
export const BOOT_CHAIN = 'tsfw-boot';
