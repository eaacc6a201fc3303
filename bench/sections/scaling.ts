/**
 * Scaling with ruleset size: 25, 200 and 1000 rules (many trusted nets and services), `tsfirewall start` against
 * the seed's per-rule method, with one bare iptables-restore as the physical floor. The per-rule side costs seconds
 * at 1000 rules, so the larger sizes run fewer rounds.
 */
import { backendEnv } from '../lib/backends.js';
import { resetFirewall } from '../lib/lab.js';
import { bar, ms, times, type Panel, type Row, type Section } from '../lib/results.js';
import { interleave, timed, timedSeq } from '../lib/rounds.js';
import { GENERIC_CLI, ipv4Restore, perRuleArgvs, planFor, ruleCount, scaledConfig } from '../lib/rulesets.js';
import { summarize } from '../lib/stats.js';
import { hostFacts, sameRules } from './common.js';

export const SCALE_GOAL = 20;
// perRule: rounds the per-rule method takes part in (seconds a run at 1000 rules on a loaded machine).
const SIZES = [
  { rules: 25, full: 9, quick: 3, perRule: 9 },
  { rules: 200, full: 7, quick: 2, perRule: 3 },
  { rules: 1000, full: 5, quick: 2, perRule: 2 },
];

export const scalingSection: Section = async ({ lab, settings, log }) => {
  const fw = lab.agents.fw;
  const rows: Row[] = [];
  const bars: Panel['bars'][number][] = [];
  const raw: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const size of SIZES) {
    const text = scaledConfig(size.rules);
    const conf = lab.config(`scale-${size.rules}.conf`, text);
    const plan = planFor(text, hostFacts(lab.ips.fw));
    await sameRules(fw, lab.tsfw('show', conf), plan);
    const argvs = perRuleArgvs(plan, GENERIC_CLI);
    const reset = () => resetFirewall(fw);
    const samples = await interleave([
      { name: 'tsfirewall start', prepare: reset, measure: () => timed(fw, lab.tsfw('start', conf), { env: backendEnv('iptables-nft') }) },
      { name: 'iptables-restore', prepare: reset, measure: () => timed(fw, ['iptables-restore', '-w', '5'], { input: ipv4Restore(plan) }) },
      { name: 'per-rule iptables', prepare: reset, measure: () => timedSeq(fw, argvs, 120_000), maxRounds: settings.rounds(size.perRule, 1) },
    ], { rounds: settings.rounds(size.full, size.quick), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
    const n = ruleCount(plan);
    log(`scaling: ${n} rules, ${samples['tsfirewall start']!.length} rounds`);
    const tsfw = summarize(samples['tsfirewall start']!);
    const perRule = summarize(samples['per-rule iptables']!);
    const speedup = perRule.median / tsfw.median;
    rows.push(size.rules === 1000
      ? { goal: `1000 rules: >= ${SCALE_GOAL}x faster than per-rule`, value: `${times(speedup)} (${ms(tsfw.median)} ms vs ${ms(perRule.median)} ms)`, pass: speedup >= SCALE_GOAL }
      : { goal: `${size.rules} rules: vs per-rule (info)`, value: `${times(speedup)} (${ms(tsfw.median)} ms vs ${ms(perRule.median)} ms)` });
    for (const k of ['iptables-restore', 'tsfirewall start', 'per-rule iptables']) bars.push(bar(`${n}: ${k}`, samples[k]!));
    notes.push(`${n}-rule ruleset: ${argvs.length} per-rule commands; iptables-restore floor ${ms(summarize(samples['iptables-restore']!).median)} ms.`);
    raw[String(n)] = samples;
  }
  return { name: 'scaling', rows, panels: [{ title: 'Start by ruleset size, ms (log scale)', unit: 'ms', log: true, bars }], notes, raw };
};
