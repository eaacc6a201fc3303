/**
 * Reload with 10k bans: the ruleset is replaced while the bans must stay (checked after every run), in ipset mode
 * (with a traced run for its stage breakdown) and in the seed's chain mode (whose 10k rules travel through
 * iptables-save and back). Against start at the seed's ruleset and against the peers: the peers section.
 */
import { backendEnv } from '../lib/backends.js';
import { bar, ms, times, type Section } from '../lib/results.js';
import { interleave, timed } from '../lib/rounds.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { breakdown, tracedContestant, type TracedRun } from '../lib/trace.js';
import { TARGET_BANS, targets } from './targets.js';

export const reloadSection: Section = async ({ lab, settings, log }) => {
  const t = await targets(lab);
  const { ps, pc } = lab.agents;
  const env = backendEnv('iptables-nft');
  const traced: TracedRun[] = [];
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(ps, [process.execPath, '-e', '0']) },
    { name: 'reload, ipset', measure: () => timed(ps, lab.tsfw('reload', t.conf.ipset), { env }), verify: () => t.verify('ps') },
    tracedContestant('reload, ipset, traced', ps, lab.tsfw('reload', t.conf.ipset), traced, { env, verify: () => t.verify('ps') }),
    { name: 'reload, chain', measure: () => timed(pc, lab.tsfw('reload', t.conf.chain), { env }), verify: () => t.verify('pc') },
  ], { rounds: settings.rounds(11, 3), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  log(`reload: ${samples['reload, ipset']!.length} rounds`);
  const floor = summarize(samples['node -e 0']!);
  const r = summarize(pairedRatios(samples['reload, ipset']!, samples['node -e 0']!));
  const ipset = summarize(samples['reload, ipset']!);
  const chain = summarize(samples['reload, chain']!);
  const bd = breakdown('reload, 10k bans (iptables-nft, ipset)', traced, samples['reload, ipset']!);
  return {
    name: 'reload',
    rows: [
      { goal: 'reload with 10k bans (ipset): every ban kept', value: `${TARGET_BANS} kept after each of ${ipset.n + traced.length} runs; ${times(r.median)} Node's floor (${ms(ipset.median)} ms vs ${ms(floor.median)} ms)`, pass: true },
      bd.row,
      { goal: 'reload with 10k bans (chain mode, info)', value: `${TARGET_BANS} kept; ${ms(chain.median)} ms (${times(chain.median / floor.median)} floor)` },
    ],
    panels: [{
      title: 'Reload with 10k bans, ms', unit: 'ms',
      bars: ['node -e 0', 'reload, ipset', 'reload, chain'].map((k) => bar(k, samples[k]!)),
    }, bd.panel],
    notes: ['Bans are counted after every reload (`ipset list -t`, `iptables -S fail2ban-SSH`); a lost ban stops the bench.', bd.note],
    raw: { samples, traced },
  };
};
