// Proves the container harness end to end: image, internal network, a systemd
// host running sshd and a plain client host. Traffic stays inside 198.51.100.0/24.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, startPlainContainer, startSystemdContainer, type StartedTestContainer } from '../harness/container.js';
import { ensureDocker } from '../harness/dockerd.js';
import { TEST_IMAGE, ensureImage, imageExists } from '../harness/image.js';
import { assertSafeSubnet, createInternalNetwork, removeNetwork } from '../harness/network.js';

const NET = 'tsfw-harness-test';
const SUBNET = '198.51.100.0/24';
const SYS_IP = '198.51.100.10';
const PLAIN_IP = '198.51.100.20';

let tag = '';
let sys: StartedTestContainer | undefined;
let plain: StartedTestContainer | undefined;

async function run(c: StartedTestContainer | undefined, argv: string[]) {
  if (!c) throw new Error('container did not start');
  return exec(c, argv);
}

describe('container harness', () => {
  beforeAll(async () => {
    await ensureDocker();
    const t0 = Date.now();
    tag = await ensureImage(TEST_IMAGE);
    console.log(`ensureImage(${tag}) took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    await createInternalNetwork(NET, SUBNET);
    [sys, plain] = await Promise.all([
      startSystemdContainer({ network: NET, ip: SYS_IP }),
      startPlainContainer({ network: NET, ip: PLAIN_IP }),
    ]);
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.allSettled([sys?.stop({ timeout: 10_000 }), plain?.stop({ timeout: 5_000 })]);
    await removeNetwork(NET);
  }, 120_000);

  it('reuses the cached image', async () => {
    expect(tag).toMatch(/^tsfw-test:[0-9a-f]{16}$/);
    expect(await imageExists(tag)).toBe(true);
    const t0 = Date.now();
    expect(await ensureImage(TEST_IMAGE)).toBe(tag);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('refuses subnets outside TEST-NET', async () => {
    await expect(assertSafeSubnet('10.99.0.0/24')).rejects.toThrow(/TEST-NET|within/);
    await expect(assertSafeSubnet('198.51.0.0/16')).rejects.toThrow(/within/);
  });

  it('runs systemd with sshd and the expected tools', async () => {
    expect((await run(sys, ['systemctl', 'is-active', 'ssh'])).stdout.trim()).toBe('active');
    expect((await run(sys, ['cat', '/proc/1/comm'])).stdout.trim()).toBe('systemd');
    const postfix = await run(sys, ['postconf', '-h', 'myhostname']);
    expect(postfix.stdout.trim()).toBe('tsfw.test');
    expect((await run(sys, ['test', '-x', '/usr/sbin/iptables-legacy'])).exitCode).toBe(0);
    expect((await run(sys, ['readlink', '-f', '/usr/sbin/iptables'])).stdout).toMatch(/xtables-nft-multi/);
  }, 60_000);

  it('answers with an SSH banner on 198.51.100.10:22', async () => {
    const r = await run(plain, ['nc', '-w', '3', SYS_IP, '22']);
    expect(r.stdout).toMatch(/^SSH-2\.0-OpenSSH/);
  }, 30_000);

  it('has NET_ADMIN inside the systemd container (iptables, ipset)', async () => {
    const ipt = await run(sys, ['iptables', '-S']);
    expect(ipt.exitCode, ipt.stderr).toBe(0);
    expect(ipt.stdout).toContain('-P INPUT ACCEPT');
    const create = await run(sys, ['ipset', 'create', 'tsfw-harness', 'hash:ip']);
    expect(create.exitCode, create.stderr).toBe(0);
    const list = await run(sys, ['ipset', 'list', 'tsfw-harness']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toContain('Name: tsfw-harness');
  }, 30_000);

  it('gives containers no way out of the internal network', async () => {
    const inspect = await execa('docker', ['network', 'inspect', '--format', '{{.Internal}}', NET]);
    expect(inspect.stdout.trim()).toBe('true');
    for (const c of [sys, plain]) {
      expect((await run(c, ['ip', '-4', 'route', 'show', 'default'])).stdout.trim()).toBe('');
      // A route lookup only: no packet is sent.
      const get = await run(c, ['ip', '-4', 'route', 'get', '192.0.2.1']);
      expect(get.exitCode).not.toBe(0);
      expect(get.stderr).toMatch(/unreachable/i);
    }
  }, 30_000);
});
