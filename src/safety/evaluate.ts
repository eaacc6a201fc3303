/**
 * What a ruleset does with one packet, decided without a kernel: the chains a hook runs are walked rule by rule,
 * jumps followed, until a verdict or the policy. Two callers, one walk. The lock-out guard judges a compiled plan
 * before it loads: what only the kernel knows (ban sets, the limiter, ban chains fail2ban fills later) is "maybe",
 * a maybe-DROP is recorded and passed over and a maybe-ACCEPT is not trusted, so its verdict errs towards "locked
 * out". explain judges the live ruleset with the kernel's facts read beside it, so little is left to "maybe".
 * Pure: the ruleset and the facts in, the verdict and its path out.
 */
import type { Hook, KernelFacts, WalkChain, WalkMatch, WalkTarget } from '../backend/types.js';
import type { Rule, Ruleset } from '../model.js';
import { judge, type Probe, type Tri } from './packet-match.js';

export type { Probe } from './packet-match.js';

/** Any rule the walk can read: a compiled plan's (model.ts) or a live one (backend/types.ts WalkRule). */
export interface EvalRule { readonly chain: string; readonly match: WalkMatch; readonly target: WalkTarget }

export interface EvalRuleset<R extends EvalRule> {
  readonly chains: readonly WalkChain[];
  readonly rules: readonly R[];
}

export type Action = 'ACCEPT' | 'DROP' | 'REJECT';

/**
 * One stop on the packet's way: a rule whose packet part matched (`matched`: it went its way, `missed`: the kernel's
 * state said no, `maybe`: not known, `passed`: a rule that lets it go on, such as LOG), or a chain's end (`policy`).
 */
export interface Step<R> {
  readonly chain: string;
  readonly rule?: R;
  readonly outcome: 'matched' | 'missed' | 'maybe' | 'passed' | 'policy';
  readonly policy?: 'ACCEPT' | 'DROP';
  readonly notes: readonly string[];
}

export interface Verdict<R> {
  readonly action: Action;
  /** The rule that decided; undefined when a chain's policy did (or nothing filters the hook). */
  readonly rule?: R;
  /** The deciding rule's chain, or the chain whose policy decided. */
  readonly chain?: string;
  /** Rules that could drop the packet depending on what the kernel holds, passed over on the way. */
  readonly conditional: readonly R[];
  /** Every rule the packet's own fields matched, in the order the kernel meets them, and each chain end it reached. */
  readonly path: readonly Step<R>[];
  /** False when a rule passed over as "maybe" could have changed the verdict. */
  readonly certain: boolean;
}

export interface WalkOptions {
  readonly facts?: KernelFacts;
  /** Chains whose rules the ruleset cannot show (ban chains fail2ban fills after the load): jumps there are conditional. */
  readonly opaque?: ReadonlySet<string>;
}

type Outcome<R> = { readonly kind: 'verdict'; readonly action: Action; readonly rule: R; readonly chain: string } | { readonly kind: 'return' | 'end' };

const MAX_DEPTH = 16;
/** Targets after which the packet goes on through the chain. */
const GOES_ON: ReadonlySet<WalkTarget['kind']> = new Set(['CONTINUE', 'LOG', 'CT', 'SNAT', 'MASQUERADE']);
const FINAL: Readonly<Partial<Record<WalkTarget['kind'], Action>>> = { ACCEPT: 'ACCEPT', DROP: 'DROP', REJECT: 'REJECT' };

const both = (a: Tri, b: Tri): Tri => (a === 'no' || b === 'no' ? 'no' : a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes');

/**
 * The packet through the base chains of one hook, in order (`entry`). ACCEPT in one base chain only ends that one
 * (the next still filters, as nftables' priorities and iptables' tables do); DROP or REJECT anywhere is final.
 */
export function evaluate<R extends EvalRule>(rs: EvalRuleset<R>, entry: readonly string[], hook: Hook, probe: Probe, opts: WalkOptions = {}): Verdict<R> {
  const facts = opts.facts ?? {};
  const byChain = new Map<string, R[]>();
  for (const r of rs.rules) {
    const list = byChain.get(r.chain);
    if (list) list.push(r);
    else byChain.set(r.chain, [r]);
  }
  const conditional: R[] = [];
  const path: Step<R>[] = [];
  let doubtful = false;

  const walk = (chain: string, depth: number): Outcome<R> => {
    for (const rule of byChain.get(chain) ?? []) {
      const j = judge(rule.match, probe, hook, facts);
      if (j.packet === 'no') continue;
      const m = both(j.packet, j.kernel);
      const t = rule.target;
      const step = (outcome: Step<R>['outcome']) => path.push({ chain, rule, outcome, notes: j.notes });
      if (m === 'no') { step('missed'); continue; }
      const limit = rule.match.rateLimit;
      if (limit !== undefined) {
        // A plan's hit-rate limit (model.ts RateLimit) drops a source over it before the rule's target; only the
        // kernel knows the counts (a live walk reads each backend's own rules for it), so it is a possible drop.
        path.push({ chain, rule, outcome: 'maybe', notes: [`the hit-rate limit ${limit.name} drops a source over ${limit.hits} in ${limit.seconds} s`] });
        conditional.push(rule);
        doubtful = true;
      }
      step(m === 'yes' ? (GOES_ON.has(t.kind) ? 'passed' : 'matched') : 'maybe');
      if (GOES_ON.has(t.kind)) continue;
      if (t.kind === 'jump' || t.kind === 'goto') {
        if (opts.opaque?.has(t.chain) || m === 'maybe') conditional.push(rule);
        const inner = depth < MAX_DEPTH ? walk(t.chain, depth + 1) : { kind: 'end' as const };
        if (m === 'maybe') { doubtful ||= !opts.opaque?.has(t.chain) || inner.kind === 'verdict'; continue; }
        if (inner.kind === 'verdict') return inner;
        if (t.kind === 'goto') return { kind: 'return' };
        continue;
      }
      const action = FINAL[t.kind];
      if (m === 'yes') {
        if (action) return { kind: 'verdict', action, rule, chain };
        if (t.kind === 'RETURN') return { kind: 'return' };
      }
      // A maybe: a possible drop is recorded, a possible accept is not trusted; either way the walk goes on.
      if (action !== 'ACCEPT') conditional.push(rule);
      doubtful = true;
    }
    return { kind: 'end' };
  };

  const policies = new Map(rs.chains.map((c) => [c.name, c.policy] as const));
  let accepted: { rule?: R; chain?: string } = {};
  for (const base of entry) {
    const out = walk(base, 0);
    if (out.kind === 'verdict') {
      if (out.action !== 'ACCEPT') return { action: out.action, rule: out.rule, chain: out.chain, conditional, path, certain: !doubtful };
      accepted = { rule: out.rule, chain: out.chain };
      continue;
    }
    const policy = policies.get(base) ?? 'ACCEPT';
    path.push({ chain: base, outcome: 'policy', policy, notes: [] });
    if (policy === 'DROP') return { action: 'DROP', chain: base, conditional, path, certain: !doubtful };
    // The last explicit accept says more than a later chain's policy accept that had nothing to say.
    if (accepted.rule === undefined) accepted = { chain: base };
  }
  return { action: 'ACCEPT', ...accepted, conditional, path, certain: !doubtful };
}

/** The chains a session's packets meet on this host: its packets in, its replies out. */
export type Direction = 'INPUT' | 'OUTPUT';

const HOOK_OF: Readonly<Record<Direction, Hook>> = { INPUT: 'input', OUTPUT: 'output' };

/**
 * The lock-out guard's question: what the compiled INPUT (or OUTPUT) chain does with the packet before anything is
 * loaded. A user chain the plan leaves empty is a ban chain fail2ban fills later, so a jump there is conditional; a
 * chain the plan fills (the per-address unicast chain) decides by its own rules.
 */
export function evaluateChain(ruleset: Ruleset, chain: Direction, probe: Probe): Verdict<Rule> {
  const filter = ruleset.tables.find((t) => t.name === 'filter');
  if (!filter) return { action: 'ACCEPT', conditional: [], path: [], certain: true };
  const opaque = new Set(filter.chains.filter((c) => c.policy === undefined && !filter.rules.some((r) => r.chain === c.name)).map((c) => c.name));
  return evaluate(filter, [chain], HOOK_OF[chain], probe, { opaque });
}

/** The INPUT chain's verdict: what the guard asked before OUTPUT could be closed too. */
export const evaluateInput = (ruleset: Ruleset, probe: Probe): Verdict<Rule> => evaluateChain(ruleset, 'INPUT', probe);
