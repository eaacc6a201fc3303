/**
 * Peak RSS of each verb (`/usr/bin/time -f %M`, the kernel's maxrss of the process), against `node -e 0`, on
 * iptables-nft, and of start on nftables. Run in the order an operator would (start, reload, status, check, show,
 * stop), so each verb sees a realistic state. Judged: start's peak against 1.15x Node's. On nftables, start is
 * judged from the boot state (no table, as every timed load in the bench begins) and shown, for information, over a
 * table whose ban set holds 10k bans: libnftables runs in our process there, so the listing of those elements that
 * the snapshot reads is in our peak too (with the nft program it was in the program's).
 */
import { backendEnv, NFT_UNAVAILABLE, probeBackends, type BenchBackend } from '../lib/backends.js';
import type { Agent } from '../lib/ns.js';
import { bar, times, type Section } from '../lib/results.js';
import { SEED_CONFIG } from '../lib/rulesets.js';
import { summarize } from '../lib/stats.js';
import { banAddresses } from '../../test/harness/ban-addresses.js';
import { flushRuleset } from '../lib/nft-floors.js';

const VERBS = ['start', 'reload', 'status', 'check', 'show', 'stop'] as const;
export const RSS_GOAL = 1.15;
const BANNED = 'start (nftables), 10k bans loaded';
const BANS = banAddresses(10_000).join('\n') + '\n';

export const memorySection: Section = async ({ lab, settings, log }) => {
  const fw = lab.agents.fw;
  const conf = lab.config('seed.conf', SEED_CONFIG);
  const probe = await probeBackends(lab, conf);
  const nft = probe.available.includes('nftables');
  const samples: Record<string, number[]> = Object.fromEntries(['node -e 0', ...VERBS, 'start (nftables)', BANNED].map((k) => [k, []]));
  const peak = async (name: string, argv: string[], b: BenchBackend = 'iptables-nft', agent: Agent = fw) => {
    const r = await agent.send({ op: 'run', argv: ['/usr/bin/time', '-f', 'MAXRSS %M', ...argv], env: backendEnv(b) });
    const kb = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1]);
    if (!Number.isFinite(kb) || ![0, 3].includes(r.code)) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
    samples[name]!.push(kb / 1024);
  };
  const rounds = settings.rounds(5, 2);
  for (let i = 0; i < rounds; i++) {
    await peak('node -e 0', [process.execPath, '-e', '0']);
    for (const verb of VERBS) await peak(verb, lab.tsfw(verb, conf));
    if (!nft) continue;
    await flushRuleset(lab.agents.nf);
    await peak('start (nftables)', lab.tsfw('start', conf), 'nftables', lab.agents.nf);
    const banned = await lab.agents.nf.send({ op: 'run', argv: [...lab.tsfw('ban', conf), '-'], env: backendEnv('nftables'), input: BANS });
    if (banned.code !== 0) throw new Error(`ban - exited ${banned.code}: ${banned.stderr}`);
    await peak(BANNED, lab.tsfw('start', conf), 'nftables', lab.agents.nf);
  }
  log(`memory: ${rounds} rounds`);
  const floor = summarize(samples['node -e 0']!).median;
  const worst = VERBS.reduce((a, v) => (summarize(samples[v]!).median > summarize(samples[a]!).median ? v : a));
  const start = summarize(samples.start!).median;
  const startNft = summarize(samples['start (nftables)']!).median;
  return {
    name: 'memory',
    rows: [{
      goal: `peak RSS of start (iptables-nft) <= ${RSS_GOAL}x node -e 0's`,
      value: `${times(start / floor)} (${start.toFixed(1)} MB vs ${floor.toFixed(1)} MB)`,
      pass: start / floor <= RSS_GOAL,
    }, nft ? {
      goal: `peak RSS of start (nftables) <= ${RSS_GOAL}x node -e 0's`,
      value: `${times(startNft / floor)} (${startNft.toFixed(1)} MB vs ${floor.toFixed(1)} MB)`,
      pass: startNft / floor <= RSS_GOAL,
    } : { goal: `peak RSS of start (nftables) <= ${RSS_GOAL}x node -e 0's`, value: `${NFT_UNAVAILABLE} (${probe.missing.get('nftables')})` }, ...(nft ? [{
      goal: `peak RSS of ${BANNED} (info)`,
      value: `${times(summarize(samples[BANNED]!).median / floor)} (${summarize(samples[BANNED]!).median.toFixed(1)} MB)`,
    }] : []), {
      goal: 'peak RSS of each verb (info)',
      value: `${VERBS.map((v) => `${v} ${summarize(samples[v]!).median.toFixed(0)}`).join(', ')} MB; node -e 0 ${floor.toFixed(0)} MB (largest: ${worst}, +${(summarize(samples[worst]!).median - floor).toFixed(0)} MB)`,
    }],
    panels: [{ title: 'Peak RSS, MB', unit: 'MB', bars: ['node -e 0', ...VERBS, ...(nft ? ['start (nftables)', BANNED] : [])].map((k) => bar(k, samples[k]!)) }],
    notes: [],
    raw: { samples },
  };
};
