/**
 * Cold start of the read-only verbs, `status` and `check`, with the seed's ruleset loaded, against Node's floor:
 * what an operator (or a monitoring probe) pays each time.
 */
import { bar, ms, times, type Row, type Section } from '../lib/results.js';
import { interleave, timed } from '../lib/rounds.js';
import { FLOOR_BARE, FLOOR_EXECA, floorContestants, floorNote, floorRows, statusStages } from '../lib/floors.js';
import { planFor, SEED_CONFIG } from '../lib/rulesets.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { hostFacts } from './common.js';

export const COLD_GOAL = 1.3;

export const coldstartSection: Section = async ({ lab, settings, log }) => {
  const fw = lab.agents.fw;
  const conf = lab.config('seed.conf', SEED_CONFIG);
  await fw.must(lab.tsfw('start', conf));
  const stages = statusStages(planFor(SEED_CONFIG, hostFacts(lab.ips.fw)));
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(fw, [process.execPath, '-e', '0']) },
    { name: 'status', measure: () => timed(fw, lab.tsfw('status', conf)) },
    { name: 'check', measure: () => timed(fw, lab.tsfw('check', conf)) },
    // An empty cache directory setting turns the code cache off: the first run after an install or upgrade.
    { name: 'status, first run', measure: () => timed(fw, lab.tsfw('status', conf), { env: { TSFIREWALL_CACHE_DIR: '' } }) },
    ...floorContestants(lab, fw, 'status', stages),
  ], { rounds: settings.rounds(15, 4), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  log(`cold start: ${samples.status!.length} rounds`);
  const floor = summarize(samples['node -e 0']!);
  const rows: Row[] = (['status', 'check'] as const).map((verb) => {
    const r = summarize(pairedRatios(samples[verb]!, samples['node -e 0']!));
    const t = summarize(samples[verb]!);
    return {
      goal: `${verb} cold start <= ${COLD_GOAL}x Node's floor`,
      value: `${times(r.median)} (${ms(t.median)} ms vs ${ms(floor.median)} ms; per-round IQR ${times(r.p25)}–${times(r.p75)})`,
      pass: r.median <= COLD_GOAL,
    };
  });
  const first = summarize(pairedRatios(samples['status, first run']!, samples['node -e 0']!));
  rows.push({
    goal: 'status on its first run after an install or upgrade, before its code cache exists (info)',
    value: `${times(first.median)} (${ms(summarize(samples['status, first run']!).median)} ms)`,
  });
  rows.push(...floorRows('status', stages, samples, 'node -e 0', COLD_GOAL));
  return {
    name: 'coldstart',
    rows,
    panels: [{
      title: 'status and check cold start, ms', unit: 'ms',
      bars: ['node -e 0', FLOOR_BARE, FLOOR_EXECA, 'status', 'check', 'status, first run'].map((k) => bar(k, samples[k]!)),
      goal: { label: `${COLD_GOAL}x floor`, value: COLD_GOAL * floor.median },
    }],
    notes: ['status and check run with the seed ruleset loaded and its ban set present (check tests in the kernel, no sandbox).',
      floorNote('status', '`iptables-save -c` per family, `ipset list -t`')],
    raw: { samples },
  };
};
