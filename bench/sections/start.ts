/**
 * Start latency on the seed's ruleset: `tsfirewall start` against Node's own floor (`node -e 0`), one bare
 * `iptables-restore` of the same IPv4 rules (the physical floor) and the seed's method (one `iptables` per rule).
 * Every load starts from open, empty tables, as at boot.
 */
import { FLOOR_BARE, FLOOR_EXECA, floorContestants, floorNote, floorRows, startStages } from '../lib/floors.js';
import { resetFirewall } from '../lib/lab.js';
import { bar, ms, times, type Section } from '../lib/results.js';
import { interleave, timed, timedSeq } from '../lib/rounds.js';
import { GENERIC_CLI, ipv4Restore, perRuleArgvs, planFor, ruleCount, SEED_CONFIG } from '../lib/rulesets.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { hostFacts, sameRules } from './common.js';

export const START_GOAL = 1.5;

export const startSection: Section = async ({ lab, settings, log }) => {
  const fw = lab.agents.fw;
  const conf = lab.config('seed.conf', SEED_CONFIG);
  const plan = planFor(SEED_CONFIG, hostFacts(lab.ips.fw));
  await sameRules(fw, lab.tsfw('show', conf), plan);
  await fw.must(lab.tsfw('start', conf)); // creates the ban set the bare restore refers to
  const reset = () => resetFirewall(fw);
  const stages = startStages(plan);
  const perRuleCommands = perRuleArgvs(plan, GENERIC_CLI);
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(fw, [process.execPath, '-e', '0']) },
    { name: 'tsfirewall start', prepare: reset, measure: () => timed(fw, lab.tsfw('start', conf)) },
    { name: 'iptables-restore', prepare: reset, measure: () => timed(fw, ['iptables-restore', '-w', '5'], { input: ipv4Restore(plan) }) },
    { name: 'per-rule iptables', prepare: reset, measure: () => timedSeq(fw, perRuleCommands) },
    ...floorContestants(lab, fw, 'start', stages, reset),
  ], { rounds: settings.rounds(15, 4), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  log(`start: ${samples['tsfirewall start']!.length} rounds`);

  const floor = summarize(samples['node -e 0']!);
  const tsfw = summarize(samples['tsfirewall start']!);
  const ratio = summarize(pairedRatios(samples['tsfirewall start']!, samples['node -e 0']!));
  const perRule = summarize(samples['per-rule iptables']!);
  const restore = summarize(samples['iptables-restore']!);
  return {
    name: 'start',
    rows: [
      { goal: `start (seed ruleset) <= ${START_GOAL}x Node's floor`, value: `${times(ratio.median)} (${ms(tsfw.median)} ms vs ${ms(floor.median)} ms; per-round IQR ${times(ratio.p25)}–${times(ratio.p75)})`, pass: ratio.median <= START_GOAL },
      { goal: 'start vs the seed\'s per-rule method (info)', value: `${times(perRule.median / tsfw.median)} faster (${ms(perRule.median)} ms per-rule)` },
      { goal: 'start vs one bare iptables-restore (info)', value: `${ms(tsfw.median - restore.median)} ms over the physical floor of ${ms(restore.median)} ms` },
      ...floorRows('start', stages, samples, 'node -e 0', START_GOAL),
    ],
    panels: [{
      title: `Start, seed ruleset (${ruleCount(plan)} rules), ms`, unit: 'ms',
      bars: ['node -e 0', 'iptables-restore', FLOOR_BARE, FLOOR_EXECA, 'tsfirewall start', 'per-rule iptables'].map((k) => bar(k, samples[k]!)),
      goal: { label: `${START_GOAL}x floor`, value: START_GOAL * floor.median },
    }],
    notes: [`Seed ruleset: the embedded default config (FAIL2BAN=no, BAN_MODE=ipset), ${ruleCount(plan)} rules over IPv4 and IPv6; ` +
      `the per-rule method runs ${perRuleCommands.length} iptables/ip6tables commands.`,
      floorNote('start', '`iptables-save -c` per family and `ipset list -t`; then `iptables-restore --test` per family; then the load per family')],
    raw: { samples, rules: ruleCount(plan) },
  };
};
