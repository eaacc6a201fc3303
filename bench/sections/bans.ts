/**
 * Loading bans: 10k and 100k entries through the ipset path (one `ipset restore` into the set tsfirewall creates)
 * against fail2ban's per-IP `iptables -I`, which is measured on 1k bans and extrapolated linearly (a lower bound
 * for fail2ban: each nft insert also re-reads a chain that keeps growing); and 10k through the CLI (`tsfirewall ban
 * -` on each backend, traced for its breakdown) against Node's floor plus one `nft -f` of a set with 10k elements.
 */
import { ipsetCreateScript } from '../../src/backend/iptables/ipset-text.js';
import { banAddresses } from '../../test/harness/ban-addresses.js';
import { BACKEND_ROLE, BACKENDS, backendEnv, NFT_UNAVAILABLE, probeBackends, type BenchBackend } from '../lib/backends.js';
import { chainCount, ipsetAdds, ipsetCount, perIpArgvs } from '../lib/bans.js';
import { BAN_SET, BAN_TABLE, banElementsNft, banSetNft, flushRuleset } from '../lib/nft-floors.js';
import { breakdown, tracedContestant, type TracedRun } from '../lib/trace.js';
import { budgetRatios } from './start.js';
import { bar, ms, times, type Panel, type Row, type Section } from '../lib/results.js';
import { interleave, timed, timedSeq, type Contestant } from '../lib/rounds.js';
import { planFor, SEED_CONFIG } from '../lib/rulesets.js';
import { summarize } from '../lib/stats.js';
import { hostFacts } from './common.js';

export const BAN_MS_GOAL = 100;
export const BAN_SPEEDUP_GOAL = 100;
export const BATCH_GOAL = 1.5;

const batchName = (b: BenchBackend) => `tsfirewall ban - 10k (${b})`;
const SET = 'f2b-SSH';
const CHAIN = 'fail2ban-SSH';

export const bansSection: Section = async ({ lab, settings, log }) => {
  const bn = lab.agents.bn;
  // The chain-mode ruleset gives fail2ban's action its real home (a chain jumped to from INPUT); the set is
  // created exactly as tsfirewall creates it in ipset mode.
  await bn.must(lab.tsfw('start', lab.config('bans-chain.conf', SEED_CONFIG.replace('BAN_MODE=ipset', 'BAN_MODE=chain'))));
  await bn.must(['ipset', 'restore', '-exist'], ipsetCreateScript(planFor(SEED_CONFIG, hostFacts(lab.ips.bn)).ipsets));
  const perIp = settings.quick ? 200 : 1000;
  const loads = [10_000, 100_000].map((n) => ({ n, text: ipsetAdds(SET, n) }));
  const expectCount = async (argv: string[], count: (s: string) => number, want: number) => {
    const got = count((await bn.must(argv)).stdout);
    if (got !== want) throw new Error(`${argv.join(' ')}: ${got} entries, expected ${want}`);
  };
  const inProcess = async (n: number) => {
    const r = await bn.must([process.execPath, lab.paths.loadbans, SET, String(n)]);
    return (JSON.parse(r.stdout) as { ms: number }).ms;
  };
  // 10k bans through the CLI, as an operator (or a script) bans a list: `tsfirewall ban -` on each backend, from
  // empty ban sets (`unban --all`, untimed), against the floor of Node plus one nft -f of a set with 10k elements.
  const seed = lab.config('bans-seed.conf', SEED_CONFIG);
  const probe = await probeBackends(lab, lab.config('seed.conf', SEED_CONFIG));
  const nt = await lab.agentIn('nt');
  const bc = await lab.agentIn('bc');
  const cliAgent = (b: BenchBackend) => (b === 'iptables-nft' ? bc : lab.agents[BACKEND_ROLE[b]]);
  for (const b of probe.available) await timed(cliAgent(b), lab.tsfw('start', seed), { env: backendEnv(b) });
  const list = banAddresses(10_000).join('\n') + '\n';
  const traced = new Map<BenchBackend, TracedRun[]>(probe.available.map((b) => [b, []]));
  const cli: Contestant[] = probe.available.flatMap((b) => {
    const prepare = async () => { await timed(cliAgent(b), lab.tsfw('unban', seed).concat('--all'), { env: backendEnv(b) }); };
    const argv = [...lab.tsfw('ban', seed), '-'];
    return [
      { name: batchName(b), prepare, measure: () => timed(cliAgent(b), argv, { input: list, env: backendEnv(b) }) },
      tracedContestant(`${batchName(b)}, traced`, cliAgent(b), argv, traced.get(b)!, { prepare, env: backendEnv(b), input: list }),
    ];
  });
  const nftSet = async () => { await flushRuleset(nt); await nt.must(['nft', '-f', '-'], banSetNft); };
  const nftAdds = banElementsNft(10_000);
  const samples = await interleave([
    { name: 'node -e 0', measure: () => timed(bc, [process.execPath, '-e', '0']) },
    ...cli,
    { name: 'nft -f, 10k set elements', prepare: nftSet, measure: () => timed(nt, ['nft', '-f', '-'], { input: nftAdds }),
      verify: async () => {
        const listed = JSON.parse((await nt.must(['nft', '-j', 'list', 'set', 'inet', BAN_TABLE, BAN_SET])).stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
        const n = listed.nftables.find((x) => x.set)?.set?.elem?.length ?? 0;
        if (n !== 10_000) throw new Error(`nft set holds ${n} elements, expected 10000`);
      } },
    ...[10_000, 100_000].map((n) => ({
      name: `loadBans ${n / 1000}k`,
      prepare: async () => { await bn.must(['ipset', 'flush', SET]); },
      measure: () => inProcess(n),
      verify: () => expectCount(['ipset', 'list', '-t', SET], ipsetCount, n),
    })),
    ...loads.map(({ n, text }) => ({
      name: `ipset ${n / 1000}k`,
      prepare: async () => { await bn.must(['ipset', 'flush', SET]); },
      measure: () => timed(bn, ['ipset', 'restore', '-exist'], { input: text }),
      verify: () => expectCount(['ipset', 'list', '-t', SET], ipsetCount, n),
    })),
    {
      name: `per-IP ${perIp}`,
      prepare: async () => { await bn.must(['iptables', '-F', CHAIN]); },
      measure: () => timedSeq(bn, perIpArgvs(CHAIN, perIp), 60_000),
      verify: () => expectCount(['iptables', '-S', CHAIN], chainCount, perIp),
      maxRounds: settings.rounds(2, 1),
    },
  ], { rounds: settings.rounds(9, 3), budgetMs: settings.budgetMs, rand: settings.rand, warmUp: true });
  await bn.must(['ipset', 'flush', SET]);
  await bn.must(['iptables', '-F', CHAIN]);
  log(`bans: ${samples['ipset 10k']!.length} rounds`);

  const perBan = samples[`per-IP ${perIp}`]!.map((x) => x / perIp);
  const ip10 = summarize(samples['ipset 10k']!);
  const ip100 = summarize(samples['ipset 100k']!);
  const lb = summarize(samples['loadBans 10k']!);
  const lb100 = summarize(samples['loadBans 100k']!);
  const pb = summarize(perBan);
  const extrapolated = (n: number) => perBan.map((x) => x * n);
  const node = summarize(samples['node -e 0']!);
  const nftAdd = summarize(samples['nft -f, 10k set elements']!);
  const batchRows: Row[] = [];
  const batchPanels: Panel[] = [];
  const batchNotes: string[] = [];
  for (const b of BACKENDS) {
    const goal = `10k bans by batch (\`tsfirewall ban -\`, ${b}) <= ${BATCH_GOAL}x (node -e 0 + one nft -f of a 10k-element set)`;
    if (!probe.available.includes(b)) { batchRows.push({ goal, value: `${NFT_UNAVAILABLE} (${probe.missing.get(b)})` }); continue; }
    const t = summarize(samples[batchName(b)]!);
    const r = summarize(budgetRatios(samples[batchName(b)]!, samples['node -e 0']!, samples['nft -f, 10k set elements']!, 1).map((x) => x / BATCH_GOAL));
    batchRows.push({ goal, value: `${times(r.median)} the budget (${ms(t.median)} ms vs ${BATCH_GOAL} × (${ms(node.median)} + ${ms(nftAdd.median)}) = ${ms(BATCH_GOAL * (node.median + nftAdd.median))} ms; per-round IQR ${times(r.p25)}–${times(r.p75)})`, pass: r.median <= 1 });
    const bd = breakdown(`ban - 10k (${b})`, traced.get(b)!, samples[batchName(b)]!);
    batchRows.push(bd.row);
    batchPanels.push(bd.panel);
    batchNotes.push(bd.note);
  }
  return {
    name: 'bans',
    rows: [
      ...batchRows,
      // Judged on tsfirewall's own path (validation, text, its programs), not on the bare ipset program.
      { goal: `10k bans (ipset path) <= ${BAN_MS_GOAL} ms`, value: `${ms(lb.median)} ms through tsfirewall's loadBans() (IQR ${ms(lb.p25)}–${ms(lb.p75)}); one bare \`ipset restore\` ${ms(ip10.median)} ms`, pass: lb.median <= BAN_MS_GOAL },
      { goal: `10k bans >= ${BAN_SPEEDUP_GOAL}x faster than per-IP iptables -I`, value: `${times((pb.median * 10_000) / lb.median)} through loadBans() (per-IP ${ms(pb.median)} ms a ban, ~${(pb.median * 10).toFixed(1)} s for 10k)`, pass: (pb.median * 10_000) / lb.median >= BAN_SPEEDUP_GOAL },
      { goal: '100k bans, ipset path (info)', value: `${ms(lb100.median)} ms through loadBans() (one bare \`ipset restore\` ${ms(ip100.median)} ms); ${times((pb.median * 100_000) / lb100.median)} faster than per-IP (~${(pb.median * 100).toFixed(0)} s)` },
    ],
    panels: [{
      title: 'Loading bans, ms (log scale; per-IP extrapolated from measured runs)', unit: 'ms', log: true,
      bars: [bar('loadBans 10k', samples['loadBans 10k']!), bar('ipset 10k', samples['ipset 10k']!),
        bar('loadBans 100k', samples['loadBans 100k']!), bar('ipset 100k', samples['ipset 100k']!),
        bar('per-IP 10k', extrapolated(10_000), true), bar('per-IP 100k', extrapolated(100_000), true)],
      goal: { label: `${BAN_MS_GOAL} ms`, value: BAN_MS_GOAL },
    }, {
      title: '10k bans by batch through the CLI, ms', unit: 'ms',
      bars: ['node -e 0', 'nft -f, 10k set elements', ...probe.available.map(batchName)].map((k) => bar(k, samples[k]!)),
      goal: { label: `${BATCH_GOAL}x (node + nft -f)`, value: BATCH_GOAL * (node.median + nftAdd.median) },
    }, ...batchPanels],
    notes: ['tsfirewall ban - 10k: the CLI reading 10k addresses on stdin (FAIL2BAN=no: straight into the kernel\'s ban set), from an empty set (`unban --all`, untimed); nft -f, 10k set elements: one `nft -f` adding 10k elements to an empty set of a table of its own.',
      ...batchNotes,
      'ipset N: one `ipset restore -exist` of N add lines, timed as a process; loadBans N: src/bans/kernel.ts loadBans() timed in-process (address validation, text, one `ipset restore` per core for a large batch, each repeating the set\'s create line so ipset skips a kernel lookup per line).',
      `Per-IP: ${perIp} × \`iptables -w -I ${CHAIN} 1 -s IP -j DROP\` per run, ${perBan.length} runs, extrapolated linearly. ` +
      'Ban entries come from 198.18.0.0/15 (RFC 2544 benchmarking range): TEST-NET has only 768 addresses; they are never sent a packet.'],
    raw: { samples, perIp },
  };
};
