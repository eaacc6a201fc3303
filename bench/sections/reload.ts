/**
 * Reload with 10k bans: the ruleset is replaced while the bans must stay (checked after every run), in ipset mode
 * on iptables-nft and in the nftables backend's set (each with a traced run for its stage breakdown), and in the
 * seed's chain mode (whose 10k rules travel through iptables-save and back). Against start at the seed's ruleset
 * and against the peers: the peers section.
 */
import { backendEnv, probeBackends } from '../lib/backends.js';
import { bar, ms, times, type Panel, type Row, type Section } from '../lib/results.js';
import { interleave, timed, type Contestant } from '../lib/rounds.js';
import { SEED_CONFIG } from '../lib/rulesets.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { breakdown, tracedContestant, type TracedRun } from '../lib/trace.js';
import { nftTarget, TARGET_BANS, targets } from './targets.js';

export const reloadSection: Section = async ({ lab, settings, log }) => {
  const t = await targets(lab);
  const probe = await probeBackends(lab, lab.config('seed.conf', SEED_CONFIG));
  const nft = probe.available.includes('nftables') ? await nftTarget(lab) : undefined;
  const { ps, pc } = lab.agents;
  const env = backendEnv('iptables-nft');
  const traced: TracedRun[] = [];
  const tracedNft: TracedRun[] = [];
  const nftContestants: Contestant[] = nft === undefined ? [] : [
    { name: 'reload, nftables', measure: () => timed(nft.agent, lab.tsfw('reload', nft.conf), { env: backendEnv('nftables') }), verify: () => nft.verify() },
    tracedContestant('reload, nftables, traced', nft.agent, lab.tsfw('reload', nft.conf), tracedNft, { env: backendEnv('nftables'), verify: () => nft.verify() }),
  ];
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(ps, [process.execPath, '-e', '0']) },
    { name: 'reload, ipset', measure: () => timed(ps, lab.tsfw('reload', t.conf.ipset), { env }), verify: () => t.verify('ps') },
    tracedContestant('reload, ipset, traced', ps, lab.tsfw('reload', t.conf.ipset), traced, { env, verify: () => t.verify('ps') }),
    ...nftContestants,
    { name: 'reload, chain', measure: () => timed(pc, lab.tsfw('reload', t.conf.chain), { env }), verify: () => t.verify('pc') },
  ], { rounds: settings.rounds(11, 3), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  log(`reload: ${samples['reload, ipset']!.length} rounds`);
  const floor = summarize(samples['node -e 0']!);
  const row = (name: string, what: string, runs: number): Row => {
    const r = summarize(pairedRatios(samples[name]!, samples['node -e 0']!));
    return { goal: `reload with 10k bans (${what}): every ban kept`, value: `${TARGET_BANS} kept after each of ${runs} runs; ${times(r.median)} Node's floor (${ms(summarize(samples[name]!).median)} ms vs ${ms(floor.median)} ms)`, pass: true };
  };
  const rows: Row[] = [row('reload, ipset', 'iptables-nft, ipset', samples['reload, ipset']!.length + traced.length)];
  const panels: Panel[] = [];
  const notes: string[] = ['Bans are counted after every reload (`ipset list -t`, `nft -j list set`, `iptables -S fail2ban-SSH`); a lost ban stops the bench.'];
  for (const [what, runs, untraced] of [['iptables-nft, ipset', traced, 'reload, ipset'], ['nftables', tracedNft, 'reload, nftables']] as const) {
    if (runs.length === 0) continue;
    if (what === 'nftables') rows.push(row(untraced, what, samples[untraced]!.length + runs.length));
    const bd = breakdown(`reload, 10k bans (${what})`, runs, samples[untraced]!);
    rows.push(bd.row);
    panels.push(bd.panel);
    notes.push(bd.note);
  }
  if (nft === undefined) rows.push({ goal: 'reload with 10k bans (nftables)', value: `nftables backend not available in this build (${probe.missing.get('nftables')})` });
  const chain = summarize(samples['reload, chain']!);
  rows.push({ goal: 'reload with 10k bans (chain mode, info)', value: `${TARGET_BANS} kept; ${ms(chain.median)} ms (${times(chain.median / floor.median)} floor)` });
  return {
    name: 'reload',
    rows,
    panels: [{
      title: 'Reload with 10k bans, ms', unit: 'ms',
      bars: ['node -e 0', 'reload, ipset', ...(nft ? ['reload, nftables'] : []), 'reload, chain'].map((k) => bar(k, samples[k]!)),
    }, ...panels],
    notes,
    raw: { samples, traced, tracedNft },
  };
};
