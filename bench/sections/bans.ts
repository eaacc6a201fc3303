/**
 * Loading bans: 10k and 100k entries through the ipset path (one `ipset restore` into the set tsfirewall creates)
 * against fail2ban's per-IP `iptables -I`, which is measured on 1k bans and extrapolated linearly (a lower bound
 * for fail2ban: each nft insert also re-reads a chain that keeps growing).
 */
import { ipsetCreateScript } from '../../src/backend/iptables/ipset-text.js';
import { chainCount, ipsetAdds, ipsetCount, perIpArgvs } from '../lib/bans.js';
import { bar, ms, times, type Section } from '../lib/results.js';
import { interleave, timed, timedSeq } from '../lib/rounds.js';
import { planFor, SEED_CONFIG } from '../lib/rulesets.js';
import { summarize } from '../lib/stats.js';
import { hostFacts } from './common.js';

export const BAN_MS_GOAL = 100;
export const BAN_SPEEDUP_GOAL = 100;
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
  const samples = await interleave([
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
  ], { rounds: settings.rounds(9, 3), budgetMs: settings.budgetMs, rand: settings.rand });
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
  return {
    name: 'bans',
    rows: [
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
    }],
    notes: ['ipset N: one `ipset restore -exist` of N add lines, timed as a process; loadBans N: src/bans/kernel.ts loadBans() timed in-process (address validation, text, one `ipset restore` per core for a large batch, each repeating the set\'s create line so ipset skips a kernel lookup per line).',
      `Per-IP: ${perIp} × \`iptables -w -I ${CHAIN} 1 -s IP -j DROP\` per run, ${perBan.length} runs, extrapolated linearly. ` +
      'Ban entries come from 198.18.0.0/15 (RFC 2544 benchmarking range): TEST-NET has only 768 addresses; they are never sent a packet.'],
    raw: { samples, perIp },
  };
};
