/**
 * Start latency on the seed's ruleset: `tsfirewall start` on each backend against Node's own floor (`node -e 0`), one
 * `nft -f` of the same ruleset (the floor the goal names), one bare `iptables-restore` of its IPv4 rules and the
 * seed's method (one `iptables` per rule), with a traced run of each backend's start for its stage breakdown.
 * Every load starts from open, empty tables (no table at all on nftables), as at boot.
 */
import { BACKEND_ROLE, BACKENDS, backendEnv, NFT_UNAVAILABLE, probeBackends, resetBackend, type BenchBackend } from '../lib/backends.js';
import { FLOOR_BARE, FLOOR_EXECA, floorContestants, floorNote, floorRows, startStages } from '../lib/floors.js';
import { flushRuleset, seedNft } from '../lib/nft-floors.js';
import { bar, ms, times, type Panel, type Row, type Section } from '../lib/results.js';
import { interleave, timed, timedSeq, type Contestant } from '../lib/rounds.js';
import { GENERIC_CLI, ipv4Restore, perRuleArgvs, planFor, ruleCount, SEED_CONFIG } from '../lib/rulesets.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { breakdown, stages, tracedContestant, type TracedRun } from '../lib/trace.js';
import { hostFacts, sameRules } from './common.js';

export const START_NODE_GOAL = 1.3;
export const EARLY_JS_GOAL_MS = 15;

const startName = (b: BenchBackend) => `tsfirewall start (${b})`;

/** Per round: the verb against the goal's budget, `factor` x Node's floor plus the kernel floor, both from that round. */
export function budgetRatios(verb: readonly number[], node: readonly number[], floor: readonly number[], factor: number): number[] {
  return verb.slice(0, Math.min(verb.length, node.length, floor.length)).map((x, i) => x / (factor * node[i]! + floor[i]!));
}

/** Median of the "before the first program" stage of traced runs. */
export const earlyJs = (runs: readonly TracedRun[]) =>
  summarize(runs.map((r) => stages(r).find((s) => s.label === 'before the first program')!.ms));

export const startSection: Section = async ({ lab, settings, log }) => {
  const fw = lab.agents.fw;
  const nf = lab.agents.nf;
  const conf = lab.config('seed.conf', SEED_CONFIG);
  const plan = planFor(SEED_CONFIG, hostFacts(lab.ips.fw));
  await sameRules(fw, lab.tsfw('show', conf), plan);
  const probe = await probeBackends(lab, conf); // also creates the ban set the bare restore refers to
  const reset = () => resetBackend('iptables-nft', fw);
  const stages0 = startStages(plan);
  const perRuleCommands = perRuleArgvs(plan, GENERIC_CLI);
  const traced = new Map<BenchBackend, TracedRun[]>(probe.available.map((b) => [b, []]));
  const perBackend: Contestant[] = probe.available.flatMap((b) => {
    const agent = lab.agents[BACKEND_ROLE[b]];
    const prepare = () => resetBackend(b, agent);
    return [
      { name: startName(b), prepare, measure: () => timed(agent, lab.tsfw('start', conf), { env: backendEnv(b) }) },
      tracedContestant(`${startName(b)}, traced`, agent, lab.tsfw('start', conf), traced.get(b)!, { prepare, env: backendEnv(b) }),
    ];
  });
  const nftDoc = seedNft({ ip: lab.ips.nf });
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(fw, [process.execPath, '-e', '0']) },
    ...perBackend,
    { name: 'nft -f', prepare: () => flushRuleset(nf), measure: () => timed(nf, ['nft', '-f', '-'], { input: nftDoc }) },
    { name: 'iptables-restore', prepare: reset, measure: () => timed(fw, ['iptables-restore', '-w', '5'], { input: ipv4Restore(plan) }) },
    { name: 'per-rule iptables', prepare: reset, measure: () => timedSeq(fw, perRuleCommands) },
    ...floorContestants(lab, fw, 'start', stages0, reset),
  ], { rounds: settings.rounds(15, 4), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  await flushRuleset(nf);
  log(`start: ${samples['node -e 0']!.length} rounds`);

  const floor = summarize(samples['node -e 0']!);
  const nft = summarize(samples['nft -f']!);
  const restore = summarize(samples['iptables-restore']!);
  const perRule = summarize(samples['per-rule iptables']!);
  const rows: Row[] = [];
  const notes: string[] = [];
  const panels: Panel[] = [{
    title: `Start, seed ruleset (${ruleCount(plan)} rules), ms`, unit: 'ms',
    bars: ['node -e 0', 'nft -f', 'iptables-restore', FLOOR_BARE, FLOOR_EXECA, ...probe.available.map(startName), 'per-rule iptables'].map((k) => bar(k, samples[k]!)),
    goal: { label: `${START_NODE_GOAL}x node + nft -f`, value: START_NODE_GOAL * floor.median + nft.median },
  }];
  for (const b of BACKENDS) {
    const goal = `start, seed ruleset (${b}): <= ${START_NODE_GOAL}x node -e 0 + one nft -f of it`;
    if (!probe.available.includes(b)) {
      rows.push({ goal, value: `${NFT_UNAVAILABLE} (${probe.missing.get(b)})` });
      continue;
    }
    const t = summarize(samples[startName(b)]!);
    const r = summarize(budgetRatios(samples[startName(b)]!, samples['node -e 0']!, samples['nft -f']!, START_NODE_GOAL));
    rows.push({ goal, value: `${times(r.median)} the budget (${ms(t.median)} ms vs ${START_NODE_GOAL} × ${ms(floor.median)} + ${ms(nft.median)} = ${ms(START_NODE_GOAL * floor.median + nft.median)} ms; per-round IQR ${times(r.p25)}–${times(r.p75)})`, pass: r.median <= 1 });
    const early = earlyJs(traced.get(b)!);
    rows.push({ goal: `start (${b}): the JS before the first program <= ${EARLY_JS_GOAL_MS} ms`, value: `${ms(early.median)} ms (IQR ${ms(early.p25)}–${ms(early.p75)}, traced runs)`, pass: early.median <= EARLY_JS_GOAL_MS });
    const bd = breakdown(`start (${b})`, traced.get(b)!, samples[startName(b)]!);
    rows.push(bd.row);
    panels.push(bd.panel);
    notes.push(bd.note);
  }
  const ts = summarize(samples[startName('iptables-nft')]!);
  rows.push(
    { goal: 'start (iptables-nft) vs the seed\'s per-rule method (info)', value: `${times(perRule.median / ts.median)} faster (${ms(perRule.median)} ms per-rule)` },
    { goal: 'start (iptables-nft) vs one bare iptables-restore (info)', value: `${ms(ts.median - restore.median)} ms over the physical floor of ${ms(restore.median)} ms` },
    { goal: 'one nft -f of the seed\'s ruleset (floor, info)', value: `${ms(nft.median)} ms (IQR ${ms(nft.p25)}–${ms(nft.p75)}); node -e 0 ${ms(floor.median)} ms` },
    ...floorRows('start (iptables-nft)', stages0, samples, 'node -e 0', START_NODE_GOAL),
  );
  const ratio = summarize(pairedRatios(samples[startName('iptables-nft')]!, samples['node -e 0']!));
  rows.push({ goal: 'start (iptables-nft) / node -e 0 (info)', value: `${times(ratio.median)} (per-round IQR ${times(ratio.p25)}–${times(ratio.p75)})` });
  return {
    name: 'start',
    rows,
    panels,
    notes: [`Seed ruleset: the embedded default config (FAIL2BAN=no, BAN_MODE=ipset), ${ruleCount(plan)} rules over IPv4 and IPv6; ` +
      `the per-rule method runs ${perRuleCommands.length} iptables/ip6tables commands; nft -f loads bench/peers/nft/seed.nft, the same ruleset by hand.`,
      ...notes,
      floorNote('start', '`iptables-save -c` per family and `ipset list -t`; then `iptables-restore --test` per family; then the load per family')],
    raw: { samples, rules: ruleCount(plan), traced: Object.fromEntries(traced) },
  };
};
