/**
 * The rules follow the address (DHCP): `reload --if-changed` reloads only a running firewall whose rules would
 * change, and `watch` runs it after each burst of address changes, so a new lease's address is reachable again
 * within seconds instead of being dropped as "not addressed to me". In a namespace, with real packets, on iptables-nft
 * and nftables (the watcher and --if-changed are the same code above the backend; legacy adds nothing here).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { until } from '../harness/poll.js';
import { connects, hasOurRules, mustExec, ourRules, sleep, spell, tsfw, tsfwEnv, tsfwOk, useCliCopy, type BackendName } from './helpers.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';

const cli = useCliCopy();
const { configs } = cli;

/** Moves the firewall's address as a new lease would: the old one goes (taking the default route), the new comes. */
async function moveAddress(fw: Host, from: string, to: string): Promise<void> {
  await mustExec(fw, ['ip', 'addr', 'del', `${from}/24`, 'dev', 'eth0']);
  await mustExec(fw, ['ip', 'addr', 'add', `${to}/24`, 'dev', 'eth0']);
  await mustExec(fw, ['ip', 'route', 'replace', 'default', 'via', '192.0.2.1']);
}

describe.each(['iptables-nft', 'nftables'] as BackendName[])('following the address with %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let out: Host;
  let stopListening: (() => void) | undefined;
  const config = configs.write('FAIL2BAN=no\nSERVICES=ssh web\n');
  const run = (args: readonly string[]) => tsfw(cli.path, fw, backend, args, config);
  const said = async (args: readonly string[]) => (await tsfwOk(cli.path, fw, backend, args, config)).trim();
  const rules = () => ourRules(fw, backend);

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'out', segment: 'wan', octet: 20 }]);
    ({ fw, out } = lab.hosts as Record<'fw' | 'out', Host>);
    stopListening = await listen(fw, [80]);
  });
  afterAll(async () => { stopListening?.(); await lab?.destroy(); });

  test('reload --if-changed starts nothing, reloads nothing that is up to date, and goes with reload only', async () => {
    expect(await said(['reload', '--if-changed'])).toBe('firewall not running: --if-changed starts nothing');
    expect(hasOurRules(await rules())).toBe(false);
    await said(['start']);
    const before = await rules();
    expect(await said(['reload', '--if-changed'])).toBe('rules up to date: nothing to reload');
    expect(await rules()).toBe(before);
    const wrong = await run(['start', '--if-changed']);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toMatch(/--if-changed goes with reload, not start/);
  });

  test('a moved address cuts the web service off until reload --if-changed follows it', async () => {
    await moveAddress(fw, '192.0.2.10', '192.0.2.11');
    expect(await connects(out, '192.0.2.11', 80, 1000)).toBe(false);
    expect(await said(['reload', '--if-changed'])).toMatch(/^firewall reloaded: \d+ rules for 192\.0\.2\.11\/24 on eth0/);
    expect(await connects(out, '192.0.2.11', 80)).toBe(true);
  });

  test('watch reloads after each change of address, and ends on SIGTERM', async () => {
    const child = spawn('ip', ['netns', 'exec', fw.ns, ...withoutFail2ban([process.execPath, cli.path, '--config', config, 'watch'])], {
      env: { ...process.env, ...tsfwEnv(cli.path, backend, fw.ns) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until('the watcher to start', async () => output.includes('watching this host\'s addresses'), 15);
      await moveAddress(fw, '192.0.2.11', '192.0.2.12');
      await until('the rules to follow 192.0.2.12', async () => (await rules()).includes(spell.src(backend, '192.0.2.12')), 15);
      expect(await connects(out, '192.0.2.12', 80)).toBe(true);
      // The watcher logs the reload once its child has exited, a moment after the rules are in.
      await until('the watcher to log the reload', async () => /address changed: firewall reloaded: \d+ rules for 192\.0\.2\.12\/24/.test(output), 10);
      const status = JSON.parse(await said(['status', '--json'])) as { pending: unknown };
      expect(status.pending).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await Promise.race([exited, sleep(10_000).then(() => 'still running')])).toBe(0);
  });

  test('over the boot-time rules, the address having come, reload --if-changed loads the full ruleset', async () => {
    await said(['stop']);
    await said(['start', '--early']);
    expect(await said(['reload', '--if-changed'])).toMatch(/^firewall reloaded: \d+ rules for 192\.0\.2\.12\/24 on eth0/);
    expect((JSON.parse(await said(['status', '--json'])) as { state: string }).state).toBe('running');
    await said(['stop']);
  });
});
