/**
 * tsfirewall beside the firewalls it replaces, side by side in one set of interleaved rounds, each in its own
 * namespace on the seed's ruleset in its own configuration (bench/lib/peers.ts): netfilter-persistent, ferm, ufw,
 * shorewall, firewalld and the seed's own script, with Node's floor and the bare nft floors. Judged here: reload with
 * 10k bans and start at 1000 rules against start at the seed's ruleset and against the peers' own start and reload,
 * and status against ufw's and firewalld's.
 */
import { backendEnv } from '../lib/backends.js';
import { flushRuleset, seedNft } from '../lib/nft-floors.js';
import { setUpPeers } from '../lib/peer-setup.js';
import type { PeerVerbName } from '../lib/peers.js';
import { resetFirewall } from '../lib/lab.js';
import { bar, ms, times, type Panel, type Row, type Section } from '../lib/results.js';
import { interleave, timed, type Contestant } from '../lib/rounds.js';
import { scaledConfig, SEED_CONFIG } from '../lib/rulesets.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { TARGET_BANS, targets } from './targets.js';

export const VS_START_GOAL = 1.5;

const TS = {
  start: 'tsfirewall start', status: 'tsfirewall status', big: 'tsfirewall start, 1000 rules', reload: 'tsfirewall reload, 10k bans',
} as const;
const peerName = (peer: string, verb: PeerVerbName) => `${peer}: ${verb}`;

export const peersSection: Section = async ({ lab, settings, log }) => {
  const { ready, skipped } = await setUpPeers(lab, log);
  const ts = await lab.agentIn('ts');
  const tk = await lab.agentIn('tk');
  const nt = await lab.agentIn('nt');
  const seed = lab.config('peers-seed.conf', SEED_CONFIG);
  const big = lab.config('peers-1000.conf', scaledConfig(1000));
  const t = await targets(lab);
  const env = backendEnv('iptables-nft');
  const nftDoc = seedNft({ ip: lab.ips.nt });
  const loadSeedNft = async () => { await flushRuleset(nt); await nt.must(['nft', '-f', '-'], nftDoc); };
  await timed(ts, lab.tsfw('start', seed), { env });
  const ours: Contestant[] = [
    { name: 'node -e 0', measure: () => timed(ts, [process.execPath, '-e', '0']) },
    { name: TS.start, prepare: () => resetFirewall(ts), measure: () => timed(ts, lab.tsfw('start', seed), { env }) },
    // Every start leaves the seed's ruleset loaded, so status always finds it.
    { name: TS.status, measure: () => timed(ts, lab.tsfw('status', seed), { env }) },
    { name: TS.big, prepare: () => resetFirewall(tk), measure: () => timed(tk, lab.tsfw('start', big), { env }) },
    { name: TS.reload, measure: () => timed(lab.agents.ps, lab.tsfw('reload', t.conf.ipset), { env }), verify: () => t.verify('ps') },
    { name: 'nft -f', prepare: () => flushRuleset(nt), measure: () => timed(nt, ['nft', '-f', '-'], { input: nftDoc }) },
    { name: 'nft -j list table', prepare: loadSeedNft, measure: () => timed(nt, ['nft', '-j', 'list', 'table', 'ip', 'seed']) },
  ];
  const theirs = ready.flatMap((p) => p.spec.verbs.map((v): Contestant => ({
    name: peerName(p.spec.name, v.verb),
    prepare: () => p.steps(v.from === 'reset' ? p.spec.reset : p.spec.ensureRunning ?? []),
    measure: () => timed(p.agent, p.argv(v)),
  })));
  const samples = await interleave([...ours, ...theirs], { rounds: settings.rounds(7, 3), budgetMs: settings.budgetMs * 2, rand: settings.rand, warmUp: true });
  for (const p of ready) await p.steps(p.spec.reset);
  await flushRuleset(nt);
  log(`peers: ${samples['node -e 0']!.length} rounds, ${ready.length} peers (${skipped.map((s) => s.spec.name).join(', ') || 'none'} skipped)`);

  const med = (k: string) => summarize(samples[k]!).median;
  const paired = (a: string, b: string) => summarize(pairedRatios(samples[a]!, samples[b]!));
  const rows: Row[] = [];
  for (const [ours1, what] of [[TS.reload, 'reload with 10k bans'], [TS.big, 'start at 1000 rules']] as const) {
    const r = paired(ours1, TS.start);
    rows.push({ goal: `${what} <= ${VS_START_GOAL}x start at the seed's ruleset`, value: `${times(r.median)} (${ms(med(ours1))} ms vs ${ms(med(TS.start))} ms; per-round IQR ${times(r.p25)}–${times(r.p75)})`, pass: r.median <= VS_START_GOAL });
  }
  const versus = (ours1: string, what: string, peer: string, verb: PeerVerbName) => {
    const key = peerName(peer, verb);
    const gone = skipped.find((s) => s.spec.name === peer);
    if (gone || !samples[key]) return rows.push({ goal: `${what} faster than ${peer}'s ${verb}`, value: `${peer} skipped: ${gone?.reason ?? 'no such verb'}` });
    const r = paired(ours1, key);
    return rows.push({ goal: `${what} faster than ${peer}'s ${verb}`, value: `${times(r.median)} its time (${ms(med(ours1))} ms vs ${ms(med(key))} ms on the seed's ruleset)`, pass: r.median < 1 });
  };
  for (const [peer, verb] of [['ufw', 'reload'], ['firewalld', 'reload'], ['shorewall', 'reload']] as const) versus(TS.reload, 'reload with 10k bans', peer, verb);
  for (const [peer, verb] of [['ufw', 'start'], ['firewalld', 'start'], ['shorewall', 'start, recompiling']] as const) versus(TS.big, 'start at 1000 rules', peer, verb);
  for (const peer of ['ufw', 'firewalld']) versus(TS.status, 'status', peer, 'status');
  rows.push({
    goal: 'every contestant, medians (info)',
    value: Object.keys(samples).map((k) => `${k} ${ms(med(k))}`).join('; ') + ' ms',
  });
  for (const s of skipped) rows.push({ goal: `${s.spec.name} (info)`, value: `skipped: ${s.reason}` });
  const panel = (title: string, verbs: readonly PeerVerbName[], extra: readonly string[]): Panel => ({
    title, unit: 'ms',
    bars: [...extra, ...ready.flatMap((p) => p.spec.verbs.filter((v) => verbs.includes(v.verb)).map((v) => peerName(p.spec.name, v.verb)))].map((k) => bar(k, samples[k]!)),
  });
  return {
    name: 'peers',
    rows,
    panels: [
      panel('Start, seed ruleset, beside the peers (ms)', ['start', 'start, recompiling'], ['node -e 0', 'nft -f', TS.start, TS.big]),
      panel('Reload, beside the peers (ms)', ['reload'], ['node -e 0', TS.reload]),
      panel('Status, beside the peers (ms)', ['status'], ['node -e 0', 'nft -j list table', TS.status]),
    ],
    notes: [
      `tsfirewall on iptables-nft: start and status of the seed's config in one namespace, start of a 1000-rule config (${TS.big}) in another from open tables, and reload in a third whose ban set holds ${TARGET_BANS} bans, counted after every run. The peers load the seed's ruleset only, so the 1000-rule and 10k-ban comparisons favour them.`,
      ...ready.map((p) => `${p.spec.name}: ${p.spec.how}; from boot state (no rules) for a start, with its ruleset loaded for status and reload.`),
      ...skipped.map((s) => `${s.spec.name}: skipped, ${s.reason}.`),
      'Each peer runs in a network namespace of its own, through an agent in a mount namespace of its own (bench/peers/enter.sh); nothing of theirs reaches this machine\'s namespace or files.',
    ],
    raw: { samples, skipped: skipped.map((s) => ({ name: s.spec.name, reason: s.reason })) },
  };
};
