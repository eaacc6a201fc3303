/**
 * Issue 14, item 1: `ban` must never cut off the admin. Run "from an SSH session" (SSH_CONNECTION naming a real
 * client in another namespace), `ban` of that client's address is refused, whole batches with it are refused with
 * nothing banned, and the admin still connects; the host's own address, a trusted net and the subnet's broadcast
 * are refused too. Per ban mode, with real packets; fail2ban is off, so a ban that got through would go straight
 * into the kernel.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { connects, mustExec, useCliCopy, type BackendName } from './helpers.js';
import { runCli, useScratch } from './safety-kit.js';

const backend: BackendName = 'iptables-nft';
const MYIP = '192.0.2.10';
const ADMIN = '198.51.100.20';
const OTHER = '198.51.100.99';
const SESSION = `${ADMIN} 40000 ${MYIP} 22`;
const MODES = ['ipset', 'chain'] as const;

const cli = useCliCopy();
const scratch = useScratch();
let lab: Lab;
let fw: Host;
let admin: Host;
let stopListener: () => void;

beforeAll(async () => {
  lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'admin', segment: 'wan', octet: 20 }]);
  fw = lab.hosts.fw!;
  admin = lab.hosts.admin!;
  stopListener = await listen(fw, [22]);
});
afterAll(async () => { stopListener?.(); await lab?.destroy(); });

describe.each(MODES)('BAN_MODE=%s', (mode) => {
  const config = () => cli.configs.write(`FAIL2BAN=no\nBAN_MODE=${mode}\nTRUST_LOCAL_SUBNET=no\nSERVICE_SSH_RATE_LIMIT=no\nTRUSTED_NETS=203.0.113.0/24\n`);
  const run = (args: string[], path: string, env: Record<string, string> = { SSH_CONNECTION: SESSION }) =>
    runCli(cli.path, fw, scratch, args, { backend, config: path, env });
  const banned = async () => mode === 'ipset'
    ? mustExec(fw, ['ipset', 'list', 'f2b-SSH'])
    : mustExec(fw, ['iptables-nft', '-w', '5', '-S', 'fail2ban-SSH']);

  test('ban of the live session\'s own address is refused, names it, and the admin still connects', async () => {
    const path = config();
    const started = await run(['restart'], path, {});
    expect(started.exitCode, started.stderr).toBe(0);
    const r = await run(['ban', ADMIN], path);
    expect(r.exitCode, r.stdout).toBe(2);
    expect(r.stderr).toMatch(/refusing to ban 198\.51\.100\.20: it is the client of a live SSH session \(198\.51\.100\.20:40000 -> 192\.0\.2\.10:22\)/);
    expect(r.stderr).toMatch(/nothing was banned/);
    expect(await banned()).not.toContain(ADMIN);
    expect(await connects(admin, MYIP, 22)).toBe(true);
  });

  test('--force does not override a live session', async () => {
    const r = await run(['ban', '--force', ADMIN], config());
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/live SSH session/);
    expect(await connects(admin, MYIP, 22)).toBe(true);
  });

  test('a batch with one refused address bans nothing and lists the refused ones', async () => {
    const r = await run(['ban', OTHER, ADMIN, MYIP, '203.0.113.5', '192.0.2.255', '127.0.0.1'], config());
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/refusing to ban 5 of 6 addresses: 198\.51\.100\.20: it is the client of a live SSH session/);
    expect(r.stderr).toMatch(/192\.0\.2\.10: it is this host's own address \(eth0\)/);
    expect(r.stderr).toMatch(/203\.0\.113\.5: it is in TRUSTED_NETS \(203\.0\.113\.0\/24\)/);
    expect(r.stderr).toMatch(/192\.0\.2\.255: it is the broadcast address of 192\.0\.2\.0\/24 \(eth0\)/);
    expect(r.stderr).toMatch(/127\.0\.0\.1: it is a loopback address/);
    expect(r.stderr).toMatch(/nothing was banned/);
    expect(await banned()).not.toContain(OTHER);
  });

  test('without the session, the same address is an ordinary ban (the guard is about who is connected)', async () => {
    const path = config();
    const r = await run(['ban', OTHER], path, {});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await banned()).toContain(OTHER);
    expect((await run(['unban', OTHER], path, {})).exitCode).toBe(0);
  });
});
