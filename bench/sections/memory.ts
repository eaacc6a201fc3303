/**
 * Peak RSS of each verb (`/usr/bin/time -f %M`, the kernel's maxrss of the process), against `node -e 0`. Run in
 * the order an operator would (start, reload, status, check, show, stop), so each verb sees a realistic state.
 */
import { bar, type Section } from '../lib/results.js';
import { SEED_CONFIG } from '../lib/rulesets.js';
import { summarize } from '../lib/stats.js';

const VERBS = ['start', 'reload', 'status', 'check', 'show', 'stop'] as const;

export const memorySection: Section = async ({ lab, settings, log }) => {
  const fw = lab.agents.fw;
  const conf = lab.config('seed.conf', SEED_CONFIG);
  const samples: Record<string, number[]> = Object.fromEntries(['node -e 0', ...VERBS].map((k) => [k, []]));
  const peak = async (name: string, argv: string[]) => {
    const r = await fw.send({ op: 'run', argv: ['/usr/bin/time', '-f', 'MAXRSS %M', ...argv] });
    const kb = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1]);
    if (!Number.isFinite(kb) || ![0, 3].includes(r.code)) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
    samples[name]!.push(kb / 1024);
  };
  const rounds = settings.rounds(3, 1);
  for (let i = 0; i < rounds; i++) {
    await peak('node -e 0', [process.execPath, '-e', '0']);
    for (const verb of VERBS) await peak(verb, lab.tsfw(verb, conf));
  }
  log(`memory: ${rounds} rounds`);
  const floor = summarize(samples['node -e 0']!).median;
  const worst = VERBS.reduce((a, v) => (summarize(samples[v]!).median > summarize(samples[a]!).median ? v : a));
  return {
    name: 'memory',
    rows: [{
      goal: 'peak RSS of each verb (info)',
      value: `${VERBS.map((v) => `${v} ${summarize(samples[v]!).median.toFixed(0)}`).join(', ')} MB; node -e 0 ${floor.toFixed(0)} MB (largest: ${worst}, +${(summarize(samples[worst]!).median - floor).toFixed(0)} MB)`,
    }],
    panels: [{ title: 'Peak RSS, MB', unit: 'MB', bars: ['node -e 0', ...VERBS].map((k) => bar(k, samples[k]!)) }],
    notes: [],
    raw: { samples },
  };
};
