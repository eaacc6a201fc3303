/**
 * Issue 16 item 4 with real packets, once per backend: a service limited to one interface, an interface trusted
 * whole, and "not addressed to me" counting every address of every interface: a secondary address added after
 * start is pending in status, `reload --if-changed` (what the address watcher runs) picks it up, and what is
 * addressed to none of them (a broadcast) is still dropped. fw has eth0 on the LAN and eth1 towards `inner`.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, FW_AND_NEIGHBOURS, listen, type Host, type Lab } from '../harness/netns.js';
import { until } from '../harness/poll.js';
import { BACKENDS, connects, isIptables, mustExec, ruleCounter, sleep, tsfw, tsfwEnv, tsfwOk, useCliCopy, type BackendName } from './helpers.js';

const MYIP = '192.0.2.10';
const ETH1 = '192.0.2.253';
const SECOND = '192.0.2.50';
const BASE = 'FAIL2BAN=no\nTRUST_LOCAL_SUBNET=no\nSERVICES=ssh web\n';

const cli = useCliCopy();
const { configs } = cli;

/** The drop at the end of "not addressed to me": the seed's rule for one address, the chain's last rule for several. */
const unicastDrop = (backend: BackendName) => (isIptables(backend) ? ['--comment "tsfw:unicast" -j DROP'] : ['drop comment "tsfw:unicast"']);

/** One UDP datagram to the LAN's broadcast address: addressed to every host, to no address of fw. */
const broadcast = (from: Host) => mustExec(from, [process.execPath, '-e',
  "const s=require('dgram').createSocket('udp4');s.bind(()=>{s.setBroadcast(true);s.send('x',9,'192.0.2.255',()=>s.close())})"]);

describe.each(BACKENDS)('per-interface rules and every address with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'lan' | 'out' | 'inner', Host>;
  const stops: (() => void)[] = [];
  const run = (args: string[], config: string) => tsfw(cli.path, h.fw, backend, args, config);
  const start = (text: string) => tsfwOk(cli.path, h.fw, backend, ['start'], configs.write(text));

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS, { behind: [{ name: 'inner', via: 'fw', ip: '192.0.2.254', gwIp: ETH1, prefix: 30 }] });
    h = lab.hosts as typeof h;
    stops.push(await listen(h.fw, [22, 23, 80]));
  });
  afterAll(async () => { for (const stop of stops) stop(); await lab?.destroy(); });

  test('SERVICE_WEB_INTERFACES=eth1: the web answers what arrives on eth1 only; SSH still on all', async () => {
    await start(`${BASE}SERVICE_WEB_INTERFACES=eth1\n`);
    const [inner80, out80, out22] = await Promise.all([connects(h.inner, ETH1, 80), connects(h.out, MYIP, 80, 1000), connects(h.out, MYIP, 22)]);
    expect(inner80).toBe(true);
    expect(out80).toBe(false);
    expect(out22).toBe(true);
    // Addressed to eth0's address but arriving on eth1: the rule is about the interface, not the address.
    expect(await connects(h.inner, MYIP, 80)).toBe(true);
  });

  test('INTERFACE_eth1_POLICY=accept: everything arriving on eth1 is in; on eth0 only the services', async () => {
    await start(`${BASE}INTERFACE_eth1_POLICY=accept\n`);
    const [inner23, lan23, lan80] = await Promise.all([connects(h.inner, ETH1, 23), connects(h.lan, MYIP, 23, 1000), connects(h.lan, MYIP, 80)]);
    expect(inner23).toBe(true);
    expect(lan23).toBe(false);
    expect(lan80).toBe(true);
  });

  test('a secondary address: pending until reload --if-changed, then it answers; a broadcast is still dropped', async () => {
    const config = configs.write(BASE);
    await tsfwOk(cli.path, h.fw, backend, ['start'], config);
    await mustExec(h.fw, ['ip', 'addr', 'add', `${SECOND}/32`, 'dev', 'eth0']);
    try {
      // The rules loaded before the address came: traffic to it is dropped as not addressed to this host.
      expect(await connects(h.out, SECOND, 80, 1000)).toBe(false);
      const status = await run(['status'], config);
      expect(status.stdout).toMatch(new RegExp(`^pending: eth0's address is now .*${SECOND.replace(/\./g, '\\.')}`, 'm'));
      expect(await tsfwOk(cli.path, h.fw, backend, ['reload', '--if-changed'], config)).toMatch(/^firewall reloaded/m);
      expect(await connects(h.out, SECOND, 80)).toBe(true);
      expect(await connects(h.out, MYIP, 80)).toBe(true);
      expect(await connects(h.inner, ETH1, 80)).toBe(true);
      expect(await tsfwOk(cli.path, h.fw, backend, ['reload', '--if-changed'], config)).toMatch(/rules up to date/);
      const before = await ruleCounter(h.fw, backend, unicastDrop(backend));
      await broadcast(h.lan);
      await expect.poll(() => ruleCounter(h.fw, backend, unicastDrop(backend)), { timeout: 10_000 }).toBeGreaterThan(before);
    } finally {
      await mustExec(h.fw, ['ip', 'addr', 'del', `${SECOND}/32`, 'dev', 'eth0']);
    }
    // Gone again: the next reload --if-changed takes it out of the rules.
    expect(await tsfwOk(cli.path, h.fw, backend, ['reload', '--if-changed'], config)).toMatch(/^firewall reloaded/m);
    expect((await run(['status'], config)).stdout).not.toMatch(/^pending:/m);
  });

  test('the address watcher picks a secondary address up on its own', async () => {
    const config = configs.write(BASE);
    await tsfwOk(cli.path, h.fw, backend, ['start'], config);
    const child = spawn('ip', ['netns', 'exec', h.fw.ns, process.execPath, cli.path, '--config', config, 'watch'], {
      env: { ...process.env, ...tsfwEnv(cli.path, backend, h.fw.ns) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const third = '192.0.2.60';
    try {
      await until('the watcher to start', async () => output.includes('watching this host\'s addresses'), 15);
      await mustExec(h.fw, ['ip', 'addr', 'add', `${third}/32`, 'dev', 'eth0']);
      await until('the watcher to log the reload', async () => /address changed: firewall reloaded/.test(output), 20);
      expect(await connects(h.out, third, 80)).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await mustExec(h.fw, ['ip', 'addr', 'del', `${third}/32`, 'dev', 'eth0']);
    }
    expect(await Promise.race([exited, sleep(10_000).then(() => 'still running')])).toBe(0);
  });
});
