/**
 * Issue 5, concurrency: 20 start/reload/stop invocations at once in one namespace serialise on the verb lock. The
 * kernel ends in one of the two states a verb produces (the started ruleset or the open host), namely the one
 * the last successful invocation produced; every exit code is honest (0, or 1 with "another tsfirewall is running
 * (pid N)" when the bounded wait ran out, and then that invocation changed nothing). The xtables lock of legacy
 * iptables is waited for, not failed on (legacy only: iptables-nft and nft take no such lock).
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, useCliCopy } from './helpers.js';
import { kernelState, runCli, useScratch } from './safety-kit.js';
import { join } from 'node:path';

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();
const CONFIG = configs.write('FAIL2BAN=no\nIPV6=mirror\nSERVICES=ssh web smtp\n');

const VERBS = ['start', 'reload', 'stop', 'restart', 'force-reload'] as const;

describe.each(BACKENDS)('20 concurrent verbs with %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let started: string;
  let open: string;
  const run = (verb: string, env: Record<string, string> = {}) => runCli(cli.path, fw, scratch, [verb], { backend, config: CONFIG, env, timeoutMs: 120_000 });

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
    expect((await run('start')).exitCode).toBe(0);
    started = await kernelState(fw, backend);
    expect((await run('stop')).exitCode).toBe(0);
    open = await kernelState(fw, backend);
    expect(started).not.toBe(open);
  });
  afterAll(async () => { await lab?.destroy(); });

  async function storm(env: Record<string, string>) {
    const verbs = Array.from({ length: 20 }, (_, i) => VERBS[(i * 7) % VERBS.length]!);
    const results = await Promise.all(verbs.map(async (verb) => {
      const r = await run(verb, env);
      return { verb, ...r, finished: performance.now() };
    }));
    const final = await kernelState(fw, backend);
    return { results, final };
  }

  const outcome = (verb: string) => (verb === 'stop' ? 'open' : 'started');

  test('with a long enough wait every invocation gets its turn and the last one decides', async () => {
    // 20 Node start-ups on two busy cores can outlast the default 30 s wait; the bound here is 120 s.
    const { results, final } = await storm({ TSFIREWALL_LOCK_WAIT: '120' });
    for (const r of results) expect(r.exitCode, `${r.verb}: ${r.stderr}`).toBe(0);
    const last = results.reduce((a, b) => (b.finished > a.finished ? b : a));
    expect(final).toBe(outcome(last.verb) === 'open' ? open : started);
    expect(scratch.leftovers()).toEqual([]);
  });

  test('with a 1 s wait some give up, honestly, and the state is still one a verb produces', async () => {
    const { results, final } = await storm({ TSFIREWALL_LOCK_WAIT: '1' });
    const succeeded = results.filter((r) => r.exitCode === 0);
    const gaveUp = results.filter((r) => r.exitCode !== 0);
    for (const r of gaveUp) {
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/another tsfirewall is running \(pid (\d+|unknown)\); gave up after waiting 1 s, nothing was changed/);
    }
    expect(succeeded.length).toBeGreaterThan(0);
    const last = succeeded.reduce((a, b) => (b.finished > a.finished ? b : a));
    expect([started, open]).toContain(final);
    expect(final).toBe(outcome(last.verb) === 'open' ? open : started);
    expect(scratch.leftovers()).toEqual([]);
  });
});

test('legacy iptables: a held xtables lock is waited for (-w), not failed on', async () => {
  const lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
  try {
    const lockfile = join(scratch.dir, 'xtables.lock');
    const holder = execa('flock', [lockfile, 'sleep', '2'], { reject: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = performance.now();
    const r = await runCli(cli.path, lab.hosts.fw!, scratch, ['start'], { backend: 'iptables-legacy', config: CONFIG, env: { XTABLES_LOCKFILE: lockfile } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeGreaterThan(1200);
    await holder;
    expect(await kernelState(lab.hosts.fw!, 'iptables-legacy')).toMatch(/tsfw:services/);
  } finally {
    await lab.destroy();
  }
});
