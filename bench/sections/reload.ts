/**
 * Reload with 10k bans: the ruleset is replaced while the bans must stay (checked after every run), in ipset mode
 * (the goal) and in the seed's chain mode (whose 10k rules travel through iptables-save and back).
 */
import { bar, ms, times, type Section } from '../lib/results.js';
import { interleave, timed } from '../lib/rounds.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { TARGET_BANS, targets } from './targets.js';

export const RELOAD_GOAL = 2;

export const reloadSection: Section = async ({ lab, settings, log }) => {
  const t = await targets(lab);
  const { ps, pc } = lab.agents;
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(ps, [process.execPath, '-e', '0']) },
    { name: 'reload, ipset', measure: () => timed(ps, lab.tsfw('reload', t.conf.ipset)), verify: () => t.verify('ps') },
    { name: 'reload, chain', measure: () => timed(pc, lab.tsfw('reload', t.conf.chain)), verify: () => t.verify('pc') },
  ], { rounds: settings.rounds(11, 3), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  log(`reload: ${samples['reload, ipset']!.length} rounds`);
  const floor = summarize(samples['node -e 0']!);
  const r = summarize(pairedRatios(samples['reload, ipset']!, samples['node -e 0']!));
  const ipset = summarize(samples['reload, ipset']!);
  const chain = summarize(samples['reload, chain']!);
  return {
    name: 'reload',
    rows: [
      { goal: `reload with 10k bans (ipset): bans kept, <= ${RELOAD_GOAL}x Node's floor`, value: `${TARGET_BANS} kept after each of ${ipset.n} runs; ${times(r.median)} (${ms(ipset.median)} ms vs ${ms(floor.median)} ms)`, pass: r.median <= RELOAD_GOAL },
      { goal: 'reload with 10k bans (chain mode, info)', value: `${TARGET_BANS} kept; ${ms(chain.median)} ms (${times(chain.median / floor.median)} floor)` },
    ],
    panels: [{
      title: 'Reload with 10k bans, ms', unit: 'ms',
      bars: ['node -e 0', 'reload, ipset', 'reload, chain'].map((k) => bar(k, samples[k]!)),
      goal: { label: `${RELOAD_GOAL}x floor`, value: RELOAD_GOAL * floor.median },
    }],
    notes: ['Bans are counted after every reload (`ipset list -t`, `iptables -S fail2ban-SSH`); a lost ban stops the bench.'],
    raw: { samples },
  };
};
