/**
 * Cold start of the read-only verbs with the seed's ruleset loaded, against Node's floor: `status` on each backend
 * (with a traced run for its stage breakdown) against the goal of 1.2x node -e 0 plus one `nft -j list table` (the
 * kernel floor of reading a ruleset), and `check`: what an operator (or a monitoring probe) pays each time.
 */
import { BACKEND_ROLE, BACKENDS, backendEnv, NFT_UNAVAILABLE, probeBackends, type BenchBackend } from '../lib/backends.js';
import { FLOOR_BARE, FLOOR_EXECA, floorContestants, floorNote, floorRows, statusStages } from '../lib/floors.js';
import { flushRuleset, seedNft } from '../lib/nft-floors.js';
import { bar, ms, times, type Panel, type Row, type Section } from '../lib/results.js';
import { interleave, timed, type Contestant } from '../lib/rounds.js';
import { planFor, SEED_CONFIG } from '../lib/rulesets.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { breakdown, tracedContestant, type TracedRun } from '../lib/trace.js';
import { hostFacts } from './common.js';
import { budgetRatios } from './start.js';

export const STATUS_NODE_GOAL = 1.2;
export const CHECK_GOAL = 1.3;

const statusName = (b: BenchBackend) => `status (${b})`;

export const coldstartSection: Section = async ({ lab, settings, log }) => {
  const fw = lab.agents.fw;
  const conf = lab.config('seed.conf', SEED_CONFIG);
  const probe = await probeBackends(lab, conf);
  for (const b of probe.available) await timed(lab.agents[BACKEND_ROLE[b]], lab.tsfw('start', conf), { env: backendEnv(b) });
  const nt = await lab.agentIn('nt');
  const nftDoc = seedNft({ ip: lab.ips.nt });
  const stages = statusStages(planFor(SEED_CONFIG, hostFacts(lab.ips.fw)));
  const traced = new Map<BenchBackend, TracedRun[]>(probe.available.map((b) => [b, []]));
  const perBackend: Contestant[] = probe.available.flatMap((b) => {
    const agent = lab.agents[BACKEND_ROLE[b]];
    return [
      { name: statusName(b), measure: () => timed(agent, lab.tsfw('status', conf), { env: backendEnv(b) }) },
      tracedContestant(`${statusName(b)}, traced`, agent, lab.tsfw('status', conf), traced.get(b)!, { env: backendEnv(b) }),
    ];
  });
  const env = backendEnv('iptables-nft');
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(fw, [process.execPath, '-e', '0']) },
    ...perBackend,
    { name: 'check', measure: () => timed(fw, lab.tsfw('check', conf), { env }) },
    // An empty cache directory setting turns the code cache off: the first run after an install or upgrade.
    { name: 'status, first run', measure: () => timed(fw, lab.tsfw('status', conf), { env: { ...env, TSFIREWALL_CACHE_DIR: '' } }) },
    {
      name: 'nft -j list table',
      prepare: async () => { await flushRuleset(nt); await nt.must(['nft', '-f', '-'], nftDoc); },
      measure: () => timed(nt, ['nft', '-j', 'list', 'table', 'ip', 'seed']),
    },
    ...floorContestants(lab, fw, 'status', stages),
  ], { rounds: settings.rounds(15, 4), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  await flushRuleset(nt);
  log(`cold start: ${samples['node -e 0']!.length} rounds`);
  const floor = summarize(samples['node -e 0']!);
  const list = summarize(samples['nft -j list table']!);
  const rows: Row[] = [];
  const panels: Panel[] = [];
  const notes: string[] = [];
  for (const b of BACKENDS) {
    const goal = `status (${b}) <= ${STATUS_NODE_GOAL}x node -e 0 + one nft -j list table`;
    if (!probe.available.includes(b)) { rows.push({ goal, value: `${NFT_UNAVAILABLE} (${probe.missing.get(b)})` }); continue; }
    const t = summarize(samples[statusName(b)]!);
    const r = summarize(budgetRatios(samples[statusName(b)]!, samples['node -e 0']!, samples['nft -j list table']!, STATUS_NODE_GOAL));
    rows.push({ goal, value: `${times(r.median)} the budget (${ms(t.median)} ms vs ${STATUS_NODE_GOAL} × ${ms(floor.median)} + ${ms(list.median)} = ${ms(STATUS_NODE_GOAL * floor.median + list.median)} ms; per-round IQR ${times(r.p25)}–${times(r.p75)})`, pass: r.median <= 1 });
    const bd = breakdown(`status (${b})`, traced.get(b)!, samples[statusName(b)]!);
    rows.push(bd.row);
    panels.push(bd.panel);
    notes.push(bd.note);
  }
  const check = summarize(pairedRatios(samples.check!, samples['node -e 0']!));
  rows.push({
    goal: `check cold start <= ${CHECK_GOAL}x Node's floor`,
    value: `${times(check.median)} (${ms(summarize(samples.check!).median)} ms vs ${ms(floor.median)} ms; per-round IQR ${times(check.p25)}–${times(check.p75)})`,
    pass: check.median <= CHECK_GOAL,
  });
  const first = summarize(pairedRatios(samples['status, first run']!, samples['node -e 0']!));
  rows.push({
    goal: 'status on its first run after an install or upgrade, before its code cache exists (info)',
    value: `${times(first.median)} (${ms(summarize(samples['status, first run']!).median)} ms)`,
  });
  rows.push(...floorRows('status (iptables-nft)', stages, samples, 'node -e 0', STATUS_NODE_GOAL));
  return {
    name: 'coldstart',
    rows,
    panels: [{
      title: 'status and check cold start, ms', unit: 'ms',
      bars: ['node -e 0', 'nft -j list table', FLOOR_BARE, FLOOR_EXECA, ...probe.available.map(statusName), 'check', 'status, first run'].map((k) => bar(k, samples[k]!)),
      goal: { label: `${STATUS_NODE_GOAL}x node + nft -j list`, value: STATUS_NODE_GOAL * floor.median + list.median },
    }, ...panels],
    notes: ['status and check run with the seed ruleset loaded and its ban set present (check tests in the kernel, no sandbox); ' +
      'nft -j list table reads the seed\'s table as bench/peers/nft/seed.nft loads it.',
      ...notes,
      floorNote('status', '`iptables-save -c` per family, `ipset list -t`')],
    raw: { samples, traced: Object.fromEntries(traced) },
  };
};
