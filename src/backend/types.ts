/**
 * The backend seam: everything that knows a firewall tool's syntax (iptables-restore text, `nft -f` documents, ipset
 * scripts) sits behind this interface, so apply, status, stop, bans and the ban daemon work the same on nftables,
 * iptables-nft and iptables-legacy. Backends return data and run their own programs; `apply/apply.ts` stays the one
 * executor that orders them (lock, journal, confirm, rollback).
 */
import type { BackendName } from '../config/types.js';
import { TsfwError } from '../errors.js';
import type { Family, IpsetSpec, MarkerRole, Match, Plan, Rule, TableName, Target } from '../model.js';

export type { BackendName } from '../config/types.js';

/** One piece of a backend's document, titled with the program that loads it (for `show`). */
export interface DocumentPart { readonly title: string; readonly text: string }

/**
 * What the kernel held of ours before an apply: JSON-serialisable, because the journal carries it past a SIGKILL so
 * the next verb can put it back. Only the backend that took it reads `data`.
 */
export interface Snapshot { readonly backend: BackendName; readonly data: unknown }

/**
 * A plan rendered against a snapshot, ready to test and load. `parts` is what `show` prints; `data` is the backend's
 * own, and also JSON-serialisable (the journal records what was attempted, so recovery can remove it).
 */
export interface Staged { readonly backend: BackendName; readonly parts: readonly DocumentPart[]; readonly data: unknown }

/** One rule as the kernel holds it, with its counters; `group` is our tsfw:<group> marker, absent for foreign rules. */
export interface LiveRule {
  readonly table: string;
  readonly chain: string;
  readonly packets: number;
  readonly bytes: number;
  readonly group?: string;
  /** The service the marker names (model.ts markerOf): its counters add up per service. */
  readonly service?: string;
  /** What the rule does for that service where its counters mean more than "accepted": limiter drops, logs. */
  readonly role?: MarkerRole;
  /** The rule as the backend's own tool prints it, without the marker. */
  readonly rule: string;
}

export interface LiveChain {
  readonly table: string;
  readonly name: string;
  readonly policy?: string;
  readonly packets: number;
  readonly bytes: number;
  /** Policy and counters are our final tsfw:policy rule's (nftables folds it into the chain), not a built-in's. */
  readonly ours?: boolean;
}

/** One family's view of the kernel: the rules and chains status shows. */
export interface LiveFamily { readonly chains: readonly LiveChain[]; readonly rules: readonly LiveRule[] }

export interface LiveState {
  readonly families: ReadonlyMap<Family, LiveFamily>;
  /** Some rule of ours is in the kernel. */
  readonly loaded: boolean;
  /** Only the boot-time ruleset (`start --early`) is loaded. */
  readonly boot: boolean;
  /** Entry counts of the ban sets found (absent: that set does not exist). */
  readonly setCounts: ReadonlyMap<string, number>;
  /** What else the backend read that `families` does not show (nftables: its base chains), for its own intact(). */
  readonly data?: unknown;
}

/** Where one jail's bans for one family live: a set (ipset or nft) or a chain of DROP rules (the seed's). */
export interface BanTarget { readonly family: Family; readonly name: string; readonly kind: 'set' | 'chain' }

/** One ban as the kernel holds it; `expiresIn` (seconds) only for an entry with a timeout. */
export interface BanEntry { readonly ip: string; readonly expiresIn?: number }

/** The kernel's ban sets and chains: read and edited without fail2ban (whose Python start-up costs more). */
export interface BanStore {
  /**
   * Members with their time left, or undefined when the target does not exist (firewall not started). `apart`: read
   * in a process of its own where the backend would read in this one (nftables' libnftables), for a long-running
   * caller: the library's listing of a 100k set grows this process's malloc heap by ~150 MB that it keeps.
   */
  members(target: BanTarget, opts?: { readonly apart?: boolean }): Promise<BanEntry[] | undefined>;
  /** Adds in one batch; `timeout` seconds (undefined or 0: until unbanned). Resolves to the number sent. */
  add(target: BanTarget, ips: readonly string[], opts?: { readonly timeout?: number }): Promise<number>;
  /** Removes; addresses not present are no error. */
  remove(target: BanTarget, ips: readonly string[]): Promise<void>;
  flush(target: BanTarget): Promise<void>;
  /** Whether `ip` is banned there right now (the lock-out guard asks before an apply). */
  holds(target: BanTarget, ip: string): Promise<boolean>;
}

/** One remembered source of the hit-rate limiter. `hits` are the kernel's timestamps where the backend has them. */
export interface LimiterEntry {
  readonly src: string;
  readonly hits?: number;
  readonly expiresIn?: number;
  /** The kernel's own figures for this source, as its tool prints them. */
  readonly detail?: string;
}

/** The fail2ban action files a backend needs, and the action line each jail uses. */
export interface Fail2banActions {
  /** action.d file name (without .conf) -> text; written by services/fail2ban. */
  readonly files: ReadonlyMap<string, string>;
  /** The jail's `action =` value for one ban name and kind of target; `ipsettime` is how long a set entry lasts. */
  action(jail: { readonly banName: string; readonly kind: BanTarget['kind'] }, ipsettime: string): string;
}

/**
 * A live rule's match read back into the model's terms (model.ts Match), plus what only rules in the kernel say:
 * explain walks these. Each backend's parser fills it from its own listing.
 */
export interface WalkMatch extends Match {
  /** xt_recent's match in an iptables rule: anyone's, or one of the two a hit-rate limit is there (RecentMatch). */
  readonly recent?: RecentMatch;
  /**
   * The nftables limiter's window (`add @rl-SSH { ip saddr counter limit rate over 1/week burst N packets }`): it
   * matches once the source's element in `set` has counted `burst` new connections.
   */
  readonly budget?: { readonly set: string; readonly burst: number };
  /** Matches the parser cannot read (another tool's): whether they hold is not known. */
  readonly unread?: readonly string[];
  /** Only packets of this family match (nft's `ip saddr` in an inet table, `meta nfproto ipv6`). */
  readonly family?: Family;
}

/**
 * xt_recent as iptables-save prints it: `--set` always matches (and stamps the source), `--update` and `--rcheck`
 * match a source with `hitcount` hits (default 1) in the list in the last `seconds` (default: ever); `--update`
 * stamps it again when it matches. A kernel fact of the iptables walk; the plan says RateLimit (model.ts).
 */
export interface RecentMatch {
  readonly op: 'set' | 'update';
  readonly name: string;
  readonly seconds?: number;
  readonly hitcount?: number;
}

/** What a walked rule does: the model's targets, and the verdicts other tools' rules end in. */
export type WalkTarget =
  | Target
  | { readonly kind: 'REJECT' }
  | { readonly kind: 'goto'; readonly chain: string }
  /** nft's `continue`, and any statement that lets the packet go on (counter, log, mark...). */
  | { readonly kind: 'CONTINUE' }
  /** A verdict the parser cannot read (NFQUEUE, a vmap on a packet field...): it may end the walk. */
  | { readonly kind: 'unread'; readonly text: string };

/** One rule as explain walks it; `text` is the rule as the backend's listing prints it, `chain` a WalkChain name. */
export interface WalkRule {
  readonly chain: string;
  readonly match: WalkMatch;
  readonly target: WalkTarget;
  readonly group?: string;
  readonly text: string;
}

export interface WalkChain { readonly name: string; readonly policy?: 'ACCEPT' | 'DROP' }

export type Hook = 'input' | 'forward' | 'output';

/** An element of a named set: an address, a network or a range as the tool prints it, with what the kernel keeps. */
export interface SetMember { readonly ip: string; readonly expiresIn?: number; readonly packets?: number }

/** One source in an xt_recent table: how many seconds ago each remembered hit was (absent: the clock was unreadable). */
export interface RecentSource { readonly src: string; readonly ages?: readonly number[] }

/** What the kernel holds that decides matches a ruleset alone cannot: ban set members, the limiter's counts. */
export interface KernelFacts {
  /** Members of named sets (ban sets, the nftables limiter's); a set not here is not known. */
  readonly sets?: ReadonlyMap<string, readonly SetMember[]>;
  /** xt_recent tables by name; a table not here is not known. */
  readonly recent?: ReadonlyMap<string, readonly RecentSource[]>;
}

/**
 * explain's view of one family: every chain a packet can reach, in the kernel's own order. `hooks` lists the base
 * chains per hook in the order the kernel runs them (iptables' tables, nftables' priorities): a packet must get
 * past each of them, and a drop in any one is final.
 */
export interface LiveWalk {
  readonly family: Family;
  /** Some rule of ours is in the kernel. */
  readonly loaded: boolean;
  readonly chains: readonly WalkChain[];
  readonly rules: readonly WalkRule[];
  readonly hooks: Readonly<Record<Hook, readonly string[]>>;
  readonly facts: KernelFacts;
}

export interface FirewallBackend {
  readonly name: BackendName;
  /** Where the rules go, for result lines: "nftables", "iptables-nft"... */
  readonly label: string;
  /** What `check` validates with, for its result line: "iptables-restore --test", "nft -c". */
  readonly testedBy: string;
  /** Its programs are on this host (a backend that is not installed cannot hold a ruleset of ours). */
  installed(): boolean;
  /**
   * Cheaply: false when it certainly holds nothing in this namespace (iptables-legacy with no table in /proc/net,
   * iptables-nft with no table of its names in nftables), so start and status after a stop or at boot do not pay
   * for reading it.
   */
  mayHold(): boolean | Promise<boolean>;
  /** Stage 1 of start: read what the kernel holds of ours (the state a rollback returns to). */
  snapshot(plan: Plan): Promise<Snapshot>;
  /** Pure: the plan's document(s), completed against what the snapshot holds (carried-over ban chains...). */
  stage(plan: Plan, before: Snapshot | undefined): Staged;
  /**
   * Creates what the documents need before they can even be tested (ipset's sets, which live outside iptables'
   * transaction); rollback undoes it. A no-op where the document carries everything (nftables).
   */
  prepare(staged: Staged): Promise<void>;
  /**
   * Validates the staged documents without changing what filters packets; throws ApplyError naming the refusal. A
   * no-op where the load is itself one transaction that the tool refuses as a whole (nftables): see LoadRefusedError.
   */
  test(staged: Staged): Promise<void>;
  /** `check`: validates a plan with nothing prepared and nothing changed in this namespace (a sandbox if need be). */
  check(plan: Plan): Promise<void>;
  /**
   * Loads atomically (per transaction the tool offers); throws ApplyError on failure, LoadRefusedError when the
   * tool refused the whole of one transaction (nothing changed, so nothing is rolled back).
   */
  load(staged: Staged): Promise<void>;
  /**
   * Puts back what the snapshot held and removes what only `attempted` added; false when that failed. `loaded`
   * false: the load never began, so only what prepare made is undone.
   */
  rollback(before: Snapshot, attempted: Staged | undefined, opts: { readonly loaded: boolean }): Promise<boolean>;
  /** What is loaded now: rules and counters of `families`, and the sizes of the named ban sets (none: not read). */
  readLive(families: readonly Family[], sets: readonly string[]): Promise<LiveState>;
  /** explain: one family's whole live ruleset as a packet walks it, with the set members and limiter counts it needs. */
  readWalk(family: Family): Promise<LiveWalk>;
  /** diff: one plan rule as `show` prints it (the backend's own lines: nftables' limiter is two). Pure. */
  showRule(rule: Rule, at: { readonly family: Family; readonly table: TableName }, plan: Pick<Plan, 'banChains' | 'ipsets'>): string[];
  /**
   * Pure, and cheap enough for status: what keeps `live` (readLive of the plan's families) from being the ruleset
   * `loaded` rendered, one line per problem; empty when it is whole. Missing: an entry into our rules, a chain of
   * ours, rules of a group, the final verdict. Foreign: a rule that is not ours among ours, or before our entry
   * where it can let packets past them. Ban chain entries and set elements vary by design and are not compared.
   */
  intact(loaded: Pick<Plan, 'rulesets'>, live: LiveState): string[];
  /**
   * stop: removes everything of ours (rules, chains, sets, policies we set) in `families`, whatever the config says
   * now, and nothing of anyone else's. `sets`: ban sets the config names, for backends whose sets live outside
   * their table (others are found from our rules).
   */
  remove(opts: { readonly families: readonly Family[]; readonly sets: readonly string[] }): Promise<void>;
  readonly bans: BanStore;
  /**
   * Network blocklists: each set's whole content replaced at once (`ipset swap` of a filled twin; one nft
   * transaction for all of them), the rules and every other set untouched. The sets must exist (start makes them).
   */
  replaceSets(sets: readonly { readonly spec: IpsetSpec; readonly entries: readonly string[] }[]): Promise<void>;
  /** The hit-rate limiter's remembered sources per limiter name; `clear` forgets them (all names when empty). */
  readLimiter(): Promise<Record<string, LimiterEntry[]>>;
  clearLimiter(names: readonly string[], sources?: readonly string[]): Promise<readonly string[]>;
  fail2banActions(opts: { readonly ipv6: boolean; readonly source?: string }): Fail2banActions;
}

/**
 * A load the tool refused as a whole: its one transaction was checked and aborted, so nothing changed. Where a load
 * is one transaction (`nft -f`), this is the test: a separate dry run (`nft -c`) costs the kernel an aborted
 * transaction, measured slower than the load itself, and proves nothing the load does not.
 */
export class LoadRefusedError extends TsfwError {
  constructor(refusal: TsfwError) { super(refusal.message, refusal.exitCode, { cause: refusal }); }
}
