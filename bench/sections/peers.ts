/**
 * tsfirewall beside the firewalls it replaces, side by side in one set of interleaved rounds, each in its own
 * namespace on the seed's ruleset in its own configuration (bench/lib/peers.ts): netfilter-persistent, ferm, ufw,
 * shorewall, firewalld and the seed's own script, with Node's floor and the bare nft floors. Judged here: reload with
 * 10k bans and start at 1000 rules against start at the seed's ruleset and against the peers' own start and reload,
 * and status against ufw's and firewalld's.
 */
import { BACKENDS, backendEnv, NFT_UNAVAILABLE, probeBackends, resetBackend, type BenchBackend } from '../lib/backends.js';
import { flushRuleset, seedNft } from '../lib/nft-floors.js';
import { setUpPeers } from '../lib/peer-setup.js';
import type { PeerVerbName } from '../lib/peers.js';
import type { PeerRole } from '../lib/lab.js';
import { bar, ms, times, type Panel, type Row, type Section } from '../lib/results.js';
import { interleave, timed, type Contestant } from '../lib/rounds.js';
import { scaledConfig, SEED_CONFIG } from '../lib/rulesets.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { nftTarget, TARGET_BANS, targets } from './targets.js';
import { cachedStartContestant } from '../lib/cached.js';

export const VS_START_GOAL = 1.5;

/** tsfirewall's contestants on one backend. */
const ts = (b: BenchBackend) => ({
  start: `tsfirewall start (${b})`, status: `tsfirewall status (${b})`, big: `tsfirewall start, 1000 rules (${b})`, reload: `tsfirewall reload, 10k bans (${b})`,
});
/** Where each backend's start/status and 1000-rule start run. */
const ROLES: Readonly<Record<BenchBackend, { readonly main: PeerRole; readonly big: PeerRole }>> = {
  'iptables-nft': { main: 'ts', big: 'tk' }, nftables: { main: 'tn', big: 'kn' },
};
const CACHED = 'tsfirewall start, cached (nftables)';
const peerName = (peer: string, verb: PeerVerbName) => `${peer}: ${verb}`;

export const peersSection: Section = async ({ lab, settings, log }) => {
  const { ready, skipped } = await setUpPeers(lab, log);
  const seed = lab.config('peers-seed.conf', SEED_CONFIG);
  const big = lab.config('peers-1000.conf', scaledConfig(1000));
  const probe = await probeBackends(lab, lab.config('seed.conf', SEED_CONFIG));
  const t = await targets(lab);
  const nt = await lab.agentIn('nt');
  const nftDoc = seedNft({ ip: lab.ips.nt });
  const loadSeedNft = async () => { await flushRuleset(nt); await nt.must(['nft', '-f', '-'], nftDoc); };
  const ours: Contestant[] = [
    { name: 'node -e 0', measure: async () => timed(await lab.agentIn('ts'), [process.execPath, '-e', '0']) },
    { name: 'nft -f', prepare: () => flushRuleset(nt), measure: () => timed(nt, ['nft', '-f', '-'], { input: nftDoc }) },
    { name: 'nft -j list table', prepare: loadSeedNft, measure: () => timed(nt, ['nft', '-j', 'list', 'table', 'ip', 'seed']) },
  ];
  for (const b of probe.available) {
    const env = backendEnv(b);
    const main = await lab.agentIn(ROLES[b].main);
    const bigAgent = await lab.agentIn(ROLES[b].big);
    const reload = b === 'nftables'
      ? await nftTarget(lab).then((n) => ({ agent: n.agent, conf: n.conf, verify: () => n.verify() }))
      : { agent: lab.agents.ps, conf: t.conf.ipset, verify: () => t.verify('ps') };
    await timed(main, lab.tsfw('start', seed), { env });
    const n = ts(b);
    ours.push(
      { name: n.start, prepare: () => resetBackend(b, main), measure: () => timed(main, lab.tsfw('start', seed), { env }) },
      // Every start leaves the seed's ruleset loaded, so status always finds it.
      { name: n.status, measure: () => timed(main, lab.tsfw('status', seed), { env }) },
      { name: n.big, prepare: () => resetBackend(b, bigAgent), measure: () => timed(bigAgent, lab.tsfw('start', big), { env }) },
      { name: n.reload, measure: () => timed(reload.agent, lab.tsfw('reload', reload.conf), { env }), verify: reload.verify },
    );
  }
  // The cached start replays the last start's document (nftables only); boot and restart with an unchanged config.
  const cachedMain = probe.available.includes('nftables') ? await lab.agentIn(ROLES.nftables.main) : undefined;
  if (cachedMain) ours.push(await cachedStartContestant(lab, cachedMain, CACHED, seed, () => resetBackend('nftables', cachedMain)));
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
  const versus = (ours1: string, what: string, against: readonly (readonly [string, PeerVerbName])[]) => {
    const gone = against.map(([peer]) => skipped.find((s) => s.spec.name === peer)).filter((s) => s !== undefined);
    const parts = against.filter(([peer]) => !gone.some((g) => g.spec.name === peer)).map(([peer, verb]) => {
      const r = paired(ours1, peerName(peer, verb));
      return { r, text: `${peer} ${verb} ${ms(med(peerName(peer, verb)))} ms (${times(r.median)})` };
    });
    rows.push({
      goal: `${what} faster than ${against.map(([peer, verb]) => `${peer}'s ${verb}`).join(', ')}`,
      value: `${ms(med(ours1))} ms; ${parts.map((p) => p.text).join('; ')}${gone.map((g) => `; ${g.spec.name} skipped (${g.reason})`).join('')}`,
      pass: gone.length > 0 ? undefined : parts.every((p) => p.r.median < 1),
    });
  };
  for (const b of BACKENDS) {
    if (!probe.available.includes(b)) {
      rows.push({ goal: `tsfirewall (${b}) beside the peers`, value: `${NFT_UNAVAILABLE} (${probe.missing.get(b)})` });
      continue;
    }
    const n = ts(b);
    for (const [ours1, what] of [[n.reload, 'reload with 10k bans'], [n.big, 'start at 1000 rules']] as const) {
      const r = paired(ours1, n.start);
      rows.push({ goal: `${what} (${b}) <= ${VS_START_GOAL}x start at the seed's ruleset`, value: `${times(r.median)} (${ms(med(ours1))} ms vs ${ms(med(n.start))} ms; per-round IQR ${times(r.p25)}–${times(r.p75)})`, pass: r.median <= VS_START_GOAL });
    }
    versus(n.reload, `reload with 10k bans (${b})`, [['ufw', 'reload'], ['firewalld', 'reload'], ['shorewall', 'reload']]);
    versus(n.big, `start at 1000 rules (${b})`, [['ufw', 'start'], ['firewalld', 'start'], ['shorewall', 'start, recompiling']]);
    versus(n.status, `status (${b})`, [['ufw', 'status'], ['firewalld', 'status']]);
  }
  if (cachedMain) {
    versus(CACHED, 'boot or restart with an unchanged config, cached (nftables)',
      [['netfilter-persistent', 'start'], ['ferm', 'start'], ['ufw', 'start'], ['shorewall', 'start'], ['seed script', 'start'], ['firewalld', 'start']]);
  }
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
      panel('Start, seed ruleset, beside the peers (ms)', ['start', 'start, recompiling'], ['node -e 0', 'nft -f', ...(cachedMain ? [CACHED] : []), ...probe.available.flatMap((b) => [ts(b).start, ts(b).big])]),
      panel('Reload, beside the peers (ms)', ['reload'], ['node -e 0', ...probe.available.map((b) => ts(b).reload)]),
      panel('Status, beside the peers (ms)', ['status'], ['node -e 0', 'nft -j list table', ...probe.available.map((b) => ts(b).status)]),
    ],
    notes: [
      `tsfirewall on each backend: start and status of the seed's config in one namespace, start of a 1000-rule config in another from boot state, and reload in a third whose ban set holds ${TARGET_BANS} bans, counted after every run. The peers load the seed's ruleset only, so the 1000-rule and 10k-ban comparisons favour them.`,
      ...ready.map((p) => `${p.spec.name}: ${p.spec.how}; from boot state (no rules) for a start, with its ruleset loaded for status and reload.`),
      ...skipped.map((s) => `${s.spec.name}: skipped, ${s.reason}.`),
      'Each peer runs in a network namespace of its own, through an agent in a mount namespace of its own (bench/peers/enter.sh); nothing of theirs reaches this machine\'s namespace or files.',
    ],
    raw: { samples, skipped: skipped.map((s) => ({ name: s.spec.name, reason: s.reason })) },
  };
};
