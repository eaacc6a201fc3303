/**
 * The one reading of `nft -j list table inet tsfirewall` (or `list set`): JSON.parse, never text scraping. It gives
 * everything the seam asks the kernel about: status's families, chains and counters, the ban sets' members, the
 * limiter's sources, and the holdings a reload must clean up.
 */
import type { BanEntry, LiveChain, LiveFamily, LiveRule, LiveState, LimiterEntry } from '../types.js';
import { BOOT_CHAIN, parseMarker, type Family } from '../../model.js';
import type { Step } from '../../status/problems.js';
import { HOOKS, LIMITER_SETS, POLICY_GROUP, SUFFIX, TABLE } from './layout.js';
import type { Holdings } from './render.js';
import { doesOf, ruleCounter, ruleText, verdictOf, value, type Json, type Obj } from './text.js';

/** Everything one listing tells, so a caller that needs several parts reads the kernel once. */
export interface TableView {
  readonly live: LiveState;
  /** Members of every set that is not a limiter set (the ban sets), by set name. */
  readonly bans: ReadonlyMap<string, BanEntry[]>;
  /** The limiter's remembered sources by limiter name (rl-SSH and rl6-SSH are both "SSH"). */
  readonly limiter: Record<string, LimiterEntry[]>;
  readonly holdings: Holdings;
}

/**
 * Every chain of our table with its rules as steps (LiveState.data): base chains and foreign chains included,
 * which the per-family view leaves out, so intact() can tell what is missing or not ours.
 */
export interface TableChains { readonly chains: readonly { readonly name: string; readonly base: boolean; readonly rules: readonly Step[] }[] }

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const FAMILIES = Object.keys(SUFFIX) as Family[];
const markerOfRule = (rule: Obj) => parseMarker(String(rule.comment ?? ''));

/** Our family chains by name: input4 -> the plan's filter INPUT for IPv4, and so on (layout.ts is the source). */
const FAMILY_CHAINS = new Map(HOOKS.flatMap((h) => FAMILIES.map((f) => [`${h.base}${SUFFIX[f]}`, { hook: h, family: f }] as const)));

/** An empty view: the table does not exist (firewall stopped, or never started on nftables). */
const EMPTY: TableView = {
  live: { families: new Map(), loaded: false, boot: false, setCounts: new Map() },
  bans: new Map(),
  limiter: {},
  holdings: { chains: [], sets: [], helpers: [] },
};

/** The objects of one kind from `nft -j` output ("chain", "rule", "set"...), only those of our table. */
function objects(list: readonly Json[], kind: string): Obj[] {
  return list.filter(isObj).map((o) => o[kind]).filter(isObj).filter((o) => o.table === undefined || o.table === TABLE);
}

const elements = (set: Obj): Json[] => (Array.isArray(set.elem) ? set.elem : []);
const elemOf = (e: Json): Obj => (isObj(e) && isObj(e.elem) ? e.elem : { val: e });

function banEntries(set: Obj): BanEntry[] {
  return elements(set).map(elemOf).map((e) => {
    const ip = value(e.val);
    // `expires` is whole seconds; an element with no timeout is there until it is removed.
    return e.timeout !== undefined && typeof e.expires === 'number' ? { ip, expiresIn: e.expires } : { ip };
  });
}

const limiterOf = (name: string) => {
  for (const kind of ['held', 'window'] as const) {
    for (const family of FAMILIES) {
      const prefix = LIMITER_SETS[kind][family];
      if (name.startsWith(prefix)) return { kind, family, name: name.slice(prefix.length) };
    }
  }
  return undefined;
};

/**
 * One entry per source and limiter name: hits are the new connections its current window counted (the window
 * element's counter), expiresIn when the kernel forgets it, and a held source says so.
 */
function limiterEntries(sets: readonly Obj[]): Record<string, LimiterEntry[]> {
  const out: Record<string, Map<string, { hits: number; expiresIn?: number; held?: number }>> = {};
  for (const set of sets) {
    const which = limiterOf(String(set.name));
    if (!which) continue;
    const sources = (out[which.name] ??= new Map());
    for (const e of elements(set).map(elemOf)) {
      const src = value(e.val);
      const was = sources.get(src) ?? { hits: 0 };
      const expires = typeof e.expires === 'number' ? e.expires : undefined;
      const later = Math.max(was.expiresIn ?? 0, expires ?? 0);
      sources.set(src, which.kind === 'window'
        ? { ...was, hits: Number(isObj(e.counter) ? e.counter.packets : 0), expiresIn: later }
        : { ...was, held: expires ?? 0, expiresIn: later });
    }
  }
  return Object.fromEntries(Object.entries(out).map(([name, sources]) => [name, [...sources].map(([src, s]): LimiterEntry => ({
    src, hits: s.hits, ...(s.expiresIn ? { expiresIn: s.expiresIn } : {}), ...(s.held === undefined ? {} : { detail: `held, ${s.held}s left` }),
  }))]));
}

/**
 * Status's view per family: each family chain is the plan chain it came from, its policy and counters those of
 * its final tsfw:policy rule; every other rule is listed with its group. Base chains only dispatch, so they are
 * left out.
 */
function families(chains: readonly Obj[], rules: readonly Obj[], wanted: ReadonlySet<Family>): Map<Family, LiveFamily> {
  const out = new Map<Family, { chains: LiveChain[]; rules: LiveRule[] }>();
  for (const chain of chains) {
    const known = FAMILY_CHAINS.get(String(chain.name));
    if (!known || !wanted.has(known.family)) continue;
    const fam = out.get(known.family) ?? { chains: [], rules: [] };
    out.set(known.family, fam);
    const { table, chain: name } = known.hook;
    let policy: LiveChain | undefined;
    for (const rule of rules.filter((r) => r.chain === chain.name)) {
      const expr = (Array.isArray(rule.expr) ? rule.expr : []).filter(isObj);
      const marker = markerOfRule(rule);
      const { packets, bytes } = ruleCounter(expr);
      if (marker?.group === POLICY_GROUP) {
        policy = { table, name, policy: verdictOf(expr) === 'drop' ? 'DROP' : 'ACCEPT', packets, bytes, ours: true };
        continue;
      }
      fam.rules.push({ table, chain: name, packets, bytes, ...marker, rule: ruleText(expr) });
    }
    fam.chains.push(policy ?? { table, name, packets: 0, bytes: 0 });
  }
  return out;
}

/** A rule as intact() compares it: its group and what it does; the text only where it names a foreign rule. */
function stepOf(rule: Obj): Step {
  const expr = (Array.isArray(rule.expr) ? rule.expr : []).filter(isObj);
  const group = markerOfRule(rule)?.group;
  return group === undefined ? { does: doesOf(expr), text: ruleText(expr) } : { group, does: doesOf(expr) };
}

function tableChains(chains: readonly Obj[], rules: readonly Obj[]): TableChains {
  const byChain = new Map<string, Step[]>(chains.map((c) => [String(c.name), []]));
  for (const rule of rules) byChain.get(String(rule.chain))?.push(stepOf(rule));
  return { chains: chains.map((c) => ({ name: String(c.name), base: c.hook !== undefined, rules: byChain.get(String(c.name)) ?? [] })) };
}

function holdings(chains: readonly Obj[], sets: readonly Obj[], helpers: readonly Obj[]): Holdings {
  return {
    chains: chains.map((c) => ({
      name: String(c.name),
      ...(c.hook === undefined ? {} : { base: { type: String(c.type), hook: String(c.hook), prio: Number(c.prio), policy: String(c.policy ?? 'accept') } }),
    })),
    sets: sets.map((s) => ({ name: String(s.name), type: String(s.type), flags: Array.isArray(s.flags) ? s.flags.map(String) : [] })),
    helpers: helpers.map((h) => ({ name: String(h.name), type: String(h.type), protocol: String(h.protocol) })),
  };
}

/**
 * `json` is nft's output, or undefined when nft said the table (or set) does not exist. `families` limits the
 * per-family view, as readLive asks. Each part is worked out when first asked for: a caller wants one or two, and
 * the ban sets' members alone are an object per element (10k bans: status and a start's snapshot never read them).
 */
export function parseTable(json: string | undefined, wanted: readonly Family[] = FAMILIES): TableView {
  if (json === undefined || json.trim() === '') return EMPTY;
  const doc: unknown = JSON.parse(json);
  const list: Json[] = isObj(doc) && Array.isArray(doc.nftables) ? doc.nftables : [];
  const chains = objects(list, 'chain');
  const rules = objects(list, 'rule');
  const sets = objects(list, 'set');
  let live: LiveState | undefined;
  let bans: ReadonlyMap<string, BanEntry[]> | undefined;
  let limiter: Record<string, LimiterEntry[]> | undefined;
  let held: Holdings | undefined;
  return {
    get live() {
      if (live) return live;
      const loaded = rules.some((r) => markerOfRule(r) !== undefined);
      live = {
        families: families(chains, rules, new Set(wanted)),
        loaded,
        boot: loaded && chains.some((c) => c.name === BOOT_CHAIN),
        setCounts: new Map(sets.map((s) => [String(s.name), elements(s).length])),
        data: tableChains(chains, rules),
      };
      return live;
    },
    get bans() {
      bans ??= new Map(sets.filter((s) => !limiterOf(String(s.name))).map((s) => [String(s.name), banEntries(s)]));
      return bans;
    },
    get limiter() {
      limiter ??= limiterEntries(sets);
      return limiter;
    },
    get holdings() {
      held ??= holdings(chains, sets, objects(list, 'ct helper'));
      return held;
    },
  };
}
