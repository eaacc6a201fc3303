// Proves the ban daemon wiring against a real sshd and a real fail2ban (Debian 12, systemd, journal only: no
// rsyslog, no /var/log/auth.log), once per backend (BACKEND= in /etc/default/tsfirewall): iptables-nft, where
// bans are ipset entries (or DROP rules in chain mode), and nftables, where fail2ban's tsfirewall-nftables action
// puts them into table inet tsfirewall's f2b-SSH with the ban's own timeout. Three hosts on one --internal /28 of
// TEST-NET-3: the firewall host, an attacker (one container, several addresses so each scenario starts with a
// clean slate in fail2ban and in the hit-rate table) and a trusted host. The firewall's own subnet is not trusted
// (TRUST_LOCAL_SUBNET=no). Fresh containers per backend: fail2ban's database remembers offenders.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { banAddresses } from '../harness/ban-addresses.js';
import { bundleCliInto } from '../harness/bundle.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, startPlainContainer, startSystemdContainer, type StartedTestContainer } from '../harness/container.js';
import { claimInternalNetwork, removeNetwork } from '../harness/network.js';
import { until } from '../harness/poll.js';
import { FAIL2BAN_BACKENDS, kernelView, type Fail2banBackend, type KernelView } from './fail2ban/kernel.js';

const NET = 'tsfw-fail2ban-test';
// Other test files hold /28s of TEST-NET concurrently: take the first free one (bounded list).
const SUBNETS = ['203.0.113.176/28', '203.0.113.192/28', '203.0.113.208/28', '203.0.113.224/28'];
const PASSWORD = 'Correct-Horse-7';
const MAXRETRY = 3;
/** The jail's default bantime (SERVICE_<NAME>_JAIL_BANTIME): what a ban's set entry is given. */
const DEFAULT_BANTIME = 600;

let backend: Fail2banBackend = 'nftables';
let kernel: KernelView;
let fw: StartedTestContainer | undefined;
let attacker: StartedTestContainer | undefined;
let trusted: StartedTestContainer | undefined;
let bundleDir = '';
/** Addresses, filled in once the subnet is claimed. */
const ip = { fw: '', attacker: '', burst: '', slow: '', inject: '', session: '', chain: '', repeat: '', trusted: '', victim: '' };

function on(c: StartedTestContainer | undefined, argv: string[], timeoutMs = 60_000) {
  if (!c) throw new Error('container did not start');
  return exec(c, argv, timeoutMs);
}
const tsfw = (...args: string[]) => on(fw, ['tsfirewall', ...args], 90_000);

function configText(mode: 'ipset' | 'chain', fail2ban: 'yes' | 'auto', extra: readonly string[]): string {
  return [
    `BACKEND=${backend}`, 'INTERFACE=eth0', 'TRUST_LOCAL_SUBNET=no', `TRUSTED_NETS=${ip.trusted}/32`, 'SERVICES=ssh', 'MODULES=',
    `BAN_MODE=${mode}`, `FAIL2BAN=${fail2ban}`, `SERVICE_SSH_JAIL_MAXRETRY=${MAXRETRY}`, ...extra, '',
  ].join('\n');
}

async function configure(mode: 'ipset' | 'chain', fail2ban: 'yes' | 'auto' = 'yes', extra: readonly string[] = []): Promise<void> {
  await fw!.copyContentToContainer([{ content: configText(mode, fail2ban, extra), target: '/etc/default/tsfirewall', mode: 0o644 }]);
}

interface BansJson { jails: { jail: string; count: number; addresses: string[] }[] }
const banned = async () => (JSON.parse((await tsfw('bans', '--json')).stdout) as BansJson).jails[0]!.addresses;

/** TCP connect to the firewall's sshd from one of the attacker's addresses (3 s: a DROP shows as a timeout). */
const connects = async (src: string, c = attacker) => (await on(c, ['nc', '-z', '-w', '3', '-s', src, ip.fw, '22'], 15_000)).exitCode === 0;

/**
 * One password attempt per connection. Bounded by timeout(1): a ban that lands after the TCP handshake drops the
 * server's answer, and ssh would wait on its retransmissions for minutes (ConnectTimeout covers the connect only).
 */
function login(src: string, password: string, user = 'alice', c = attacker) {
  return on(c, ['timeout', '-k', '2', '12', 'sshpass', '-p', password, 'ssh', '-b', src, '-l', user,
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=4',
    '-o', 'NumberOfPasswordPrompts=1', '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no',
    ip.fw, 'true'], 30_000);
}

/** The attempt reached sshd and its password was refused (not: the connection was dropped). */
async function refused(src: string, password: string, user = 'alice'): Promise<void> {
  const r = await login(src, password, user);
  expect(r.exitCode).not.toBe(0);
  expect(r.stderr).toMatch(/Permission denied/);
}

const jailStatus = async () => (await on(fw, ['fail2ban-client', 'status', 'tsfw-ssh'])).stdout;

describe.each(FAIL2BAN_BACKENDS)('fail2ban driven by tsfirewall on %s, against a real sshd', (backendName) => {
  beforeAll(async () => {
    backend = backendName;
    bundleDir = await bundleCliInto('tsfw-fail2ban-dist');
    const { subnet } = await claimInternalNetwork(NET, SUBNETS);
    const base = subnet.replace(/\.\d+\/28$/, '.');
    const first = Number(/\.(\d+)\/28$/.exec(subnet)![1]);
    const at = (n: number) => `${base}${first + n}`;
    Object.assign(ip, {
      fw: at(2), attacker: at(3), burst: at(4), slow: at(5), inject: at(6), session: at(7), chain: at(8), repeat: at(9),
      trusted: at(10), victim: at(13),
    });
    [fw, attacker, trusted] = await Promise.all([
      startSystemdContainer({ network: NET, ip: ip.fw }),
      startPlainContainer({ network: NET, ip: ip.attacker }),
      startPlainContainer({ network: NET, ip: ip.trusted }),
    ]);
    kernel = kernelView(backend, fw!);
    for (const a of [ip.burst, ip.slow, ip.inject, ip.session, ip.chain, ip.repeat]) {
      expect((await on(attacker, ['ip', 'addr', 'add', `${a}/28`, 'dev', 'eth0'])).exitCode).toBe(0);
    }
    await fw!.copyDirectoriesToContainer([{ source: bundleDir, target: '/opt/tsfirewall' }]);
    await fw!.copyContentToContainer([{ content: '#!/bin/sh\nexec node /opt/tsfirewall/tsfirewall.cjs "$@"\n', target: '/usr/sbin/tsfirewall', mode: 0o755 }]);
    expect((await on(fw, ['useradd', '--create-home', '--shell', '/bin/sh', 'alice'])).exitCode).toBe(0);
    expect((await on(fw, ['sh', '-c', `echo 'alice:${PASSWORD}' | chpasswd`])).exitCode).toBe(0);
    await configure('ipset');
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.allSettled([fw?.stop({ timeout: 10_000 }), attacker?.stop({ timeout: 5_000 }), trusted?.stop({ timeout: 5_000 })]);
    await removeNetwork(NET);
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
    fw = attacker = trusted = undefined;
    bundleDir = '';
  }, 120_000);

  it('start writes the jail (journal backend, stock [sshd] off) and reloads the running fail2ban with it', async () => {
    expect((await on(fw, ['test', '-e', '/var/log/auth.log'])).exitCode).not.toBe(0);
    const r = await tsfw('start');
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/fail2ban (re)?(loaded|started) \(jails: tsfw-ssh\)/);
    const jail = (await on(fw, ['cat', '/etc/fail2ban/jail.d/tsfirewall.conf'])).stdout;
    expect(jail).toMatch(/^\[sshd\]\n(#.*\n)?enabled = false$/m);
    expect(jail).toMatch(/^backend {2}= systemd$/m);
    expect(jail).toMatch(new RegExp(`^ignoreip = 127\\.0\\.0\\.1/8 ::1 ${ip.fw} ${ip.trusted}/32$`, 'm'));
    // The jail bans through this backend's own action, whose file start wrote beside it.
    expect(jail).toMatch(kernel.jailAction);
    expect((await on(fw, ['test', '-s', kernel.actionFile])).exitCode).toBe(0);
    const list = (await on(fw, ['fail2ban-client', 'status'])).stdout;
    expect(list).toMatch(/Jail list:\s+tsfw-ssh\s*$/m);
    const status = JSON.parse((await tsfw('status', '--json')).stdout);
    expect(status).toMatchObject({ state: 'running', backend, banDaemon: 'running', bans: [{ jail: 'tsfw-ssh', mode: 'ipset', count: 0 }] });
    expect(await kernel.elsewhere()).toEqual([]);
  });

  it('a host that fails the password maxretry times is banned within seconds; the trusted host still logs in', async () => {
    for (let i = 0; i < MAXRETRY; i++) await refused(ip.attacker, 'wrong-password');
    const ms = await until('the attacker in f2b-SSH', async () => (await banned()).includes(ip.attacker), 60);
    console.log(`${backend}: banned ${ms} ms after the last failed login`);
    // fail2ban's action put it into the kernel's set with the jail's ban time (nftables keeps the timeout itself).
    const entry = await kernel.ban(ip.attacker);
    expect(entry?.left).toBeGreaterThan(0);
    expect(entry?.left).toBeLessThanOrEqual(DEFAULT_BANTIME);
    if (backend === 'nftables') expect(entry?.timeout).toBe(DEFAULT_BANTIME);
    // Its three connections also filled the hit-rate table: empty it, so what drops it now is the ban alone.
    expect((await tsfw('recent', 'clear', 'SSH')).exitCode).toBe(0);
    const drops = await kernel.banDrops();
    expect(await connects(ip.attacker)).toBe(false);
    // The ban rule itself dropped it (the SYN and its retransmissions).
    expect(await kernel.banDrops()).toBeGreaterThan(drops);
    expect((await login(ip.trusted, PASSWORD, 'alice', trusted)).exitCode).toBe(0);
    expect(await jailStatus()).toContain(ip.attacker);
  });

  it('unban lets it back (fail2ban forgets it too)', async () => {
    const r = await tsfw('unban', ip.attacker);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await banned()).not.toContain(ip.attacker);
    expect(await jailStatus()).not.toContain(ip.attacker);
    expect(await kernel.ban(ip.attacker)).toBeUndefined();
    expect(await connects(ip.attacker)).toBe(true);
  });

  it('banning cuts an established session: the ban rule sits before the ESTABLISHED accept', async () => {
    const ticks = ['sh', '-c', `setsid timeout 60 sshpass -p '${PASSWORD}' ssh -b ${ip.session} -o StrictHostKeyChecking=no ` +
      `-o UserKnownHostsFile=/dev/null alice@${ip.fw} 'i=0; while [ $i -lt 200 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done' ` +
      '>/tmp/ticks 2>&1 </dev/null &'];
    expect((await on(attacker, ticks)).exitCode).toBe(0);
    const size = async () => Number((await on(attacker, ['stat', '-c', '%s', '/tmp/ticks'])).stdout.trim());
    await until('ticks arriving over the session', async () => (await size()) > 20, 60);
    const r = await tsfw('ban', ip.session);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/through fail2ban/);
    // fail2ban runs its action in its own time: from the moment the kernel holds the ban, the session is cut.
    await until('the session\'s address in the kernel\'s ban set', async () => (await kernel.ban(ip.session)) !== undefined, 60);
    await sleep(2_000);
    const after = await size();
    await sleep(3_000);
    expect(await size()).toBe(after);
    expect((await tsfw('unban', ip.session)).exitCode).toBe(0);
  });

  it('the kernel limiter cuts a fast burst before sshd logs any failure', async () => {
    const results: boolean[] = [];
    for (let i = 0; i < 4; i++) results.push(await connects(ip.burst));
    expect(results).toEqual([true, true, true, false]);
    const log = (await on(fw, ['journalctl', '--no-pager', '-o', 'cat', '_COMM=sshd'])).stdout;
    const failures = log.split('\n').filter((l) => l.includes(ip.burst) && /Failed|Invalid user|authentication failure/.test(l));
    expect(failures.length).toBeLessThan(MAXRETRY);
    expect(await banned()).not.toContain(ip.burst);
    expect((await tsfw('recent', '--json')).stdout).toContain(ip.burst);
  });

  it('slow guessing that stays under the limiter is caught by fail2ban', async () => {
    for (let i = 0; i < MAXRETRY; i++) {
      // Each attempt got through the limiter and reached a password prompt.
      await refused(ip.slow, 'still-wrong');
      if (i < MAXRETRY - 1) await sleep(3_000);
    }
    await until('the slow guesser in f2b-SSH', async () => (await banned()).includes(ip.slow), 60);
  });

  it('a login name crafted to say "from <victim>" bans the sender, never the victim', async () => {
    // sshd logs two failures per attempt for an unknown user, so the ban may come before the last attempt.
    for (let i = 0; i < MAXRETRY && !(await banned()).includes(ip.inject); i++) {
      await login(ip.inject, 'x', `x from ${ip.victim} port 22`);
    }
    await until('the injector in f2b-SSH', async () => (await banned()).includes(ip.inject), 60);
    const log = (await on(fw, ['journalctl', '--no-pager', '-o', 'cat', '_COMM=sshd'])).stdout;
    expect(log).toContain(`Invalid user x from ${ip.victim} port 22 from ${ip.inject} port`);
    expect(await banned()).not.toContain(ip.victim);
    expect(await jailStatus()).not.toContain(ip.victim);
  });

  it('bans survive reload (fail2ban reloaded too) and restart in ipset mode, each with its time left', async () => {
    // Beside fail2ban's bans, a batch loaded straight into the kernel (above CLIENT_MAX, so fail2ban never knows
    // it): what keeps these is the firewall's own swap, not fail2ban putting its bans back at its start.
    const direct = banAddresses(60).slice(-51);
    await fw!.copyContentToContainer([{ content: `${direct.join('\n')}\n`, target: '/root/direct.txt' }]);
    const loaded = await on(fw, ['sh', '-c', 'tsfirewall ban --jail ssh - < /root/direct.txt']);
    expect(loaded.stdout, loaded.stderr).toMatch(/banned 51 addresses in tsfw-ssh \(51 new kernel entries/);
    for (const verb of ['reload', 'restart']) {
      const [slow, kept] = [await kernel.ban(ip.slow), await kernel.ban(direct[7]!)];
      const r = await tsfw(verb);
      expect(r.exitCode, `${verb}: ${r.stderr}`).toBe(0);
      expect(await banned()).toEqual(expect.arrayContaining([ip.slow, ip.inject, ...direct]));
      // The same entry, still counting down (not a fresh one): the atomic swap kept it.
      const after = await kernel.ban(direct[7]!);
      expect(after?.left).toBeGreaterThan(0);
      expect(after?.left).toBeLessThanOrEqual(kept!.left!);
      if (backend === 'nftables') expect(after?.timeout).toBe(DEFAULT_BANTIME);
      // fail2ban's reload leaves its bans as they are; its restart puts each back through actionban, which gives
      // the entry the jail's ban time again (fail2ban still lifts it when its own ban ends).
      const slowAfter = await kernel.ban(ip.slow);
      expect(slowAfter?.left).toBeGreaterThan(0);
      expect(slowAfter?.left).toBeLessThanOrEqual(verb === 'reload' ? slow!.left! : DEFAULT_BANTIME);
      const drops = await kernel.banDrops();
      expect(await connects(ip.slow)).toBe(false);
      expect(await kernel.banDrops()).toBeGreaterThan(drops);
      await until(`fail2ban still holding the ban after ${verb}`, async () => (await jailStatus()).includes(ip.slow), 60);
    }
    const status = JSON.parse((await tsfw('status', '--json')).stdout);
    expect(status.bans[0].count).toBeGreaterThanOrEqual(2 + direct.length);
    const lifted = await on(fw, ['sh', '-c', 'tsfirewall unban - < /root/direct.txt']);
    expect(lifted.exitCode, lifted.stderr).toBe(0);
    expect(await kernel.ban(direct[7]!)).toBeUndefined();
  });

  it('10k bans load through the batch path (one ipset restore, or one nft transaction)', async () => {
    // 198.18.0.0/15 is the benchmarking range: these are set entries only, no packet is ever sent to them.
    const ips = banAddresses(10_000);
    await fw!.copyContentToContainer([{ content: ips.join('\n') + '\n', target: '/root/10k.txt' }]);
    const t0 = Date.now();
    const r = await on(fw, ['sh', '-c', 'tsfirewall ban --jail ssh - < /root/10k.txt']);
    const ms = Date.now() - t0;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/banned 10000 addresses in tsfw-ssh \(10000 new kernel entries/);
    console.log(`${backend}: ban of 10k addresses (node start + one batch): ${ms} ms`);
    expect(await kernel.setSize()).toBeGreaterThanOrEqual(10_002);
    // Loaded directly, each entry still carries the jail's ban time.
    const one = await kernel.ban(ips[4321]!);
    expect(one?.left).toBeGreaterThan(0);
    if (backend === 'nftables') expect(one?.timeout).toBe(DEFAULT_BANTIME);
    const all = await tsfw('unban', '--all');
    expect(all.exitCode, all.stderr).toBe(0);
    expect(await banned()).toEqual([]);
  });

  it('a repeat offender\'s second ban lasts twice the first (BANTIME_MAX), and its set entry expires with it', async () => {
    // Long enough that every ban is seen in the kernel well within its lifetime, however slow this machine is.
    const BANTIME = 20;
    await configure('ipset', 'yes', [`SERVICE_SSH_JAIL_BANTIME=${BANTIME}`, 'SERVICE_SSH_JAIL_BANTIME_MAX=3600']);
    const r = await tsfw('reload');
    expect(r.exitCode, r.stderr).toBe(0);
    const entry = () => kernel.ban(ip.repeat);
    const offend = async (round: number) => {
      // Each round's connections count in the hit-rate table (3 per 180 s): start from an empty one.
      expect((await tsfw('recent', 'clear', 'SSH')).exitCode).toBe(0);
      // The first attempt reaches sshd. fail2ban counts a known offender's failures for more (seen: banned at the
      // second attempt of round 2), so the later attempts stop once the ban is in.
      await refused(ip.repeat, `wrong-${round}-0`);
      for (let i = 1; i < MAXRETRY && (await entry()) === undefined; i++) await login(ip.repeat, `wrong-${round}-${i}`);
      let seen: Awaited<ReturnType<typeof entry>>;
      await until(`ban ${round} of the repeat offender`, async () => (seen = await entry()) !== undefined, 60);
      return seen!;
    };
    const first = await offend(1);
    expect(first.left).toBeLessThanOrEqual(BANTIME);
    // nftables keeps the timeout fail2ban's action gave the element: this ban's own length.
    if (backend === 'nftables') expect(first.timeout).toBe(BANTIME);
    // The kernel expires the entry by itself (fail2ban's unban then finds it gone, which is no error).
    await until('the first ban to expire', async () => (await entry()) === undefined, BANTIME + 60);
    await offend(2);
    // fail2ban may lengthen the ban just after placing it (actionprolong): wait for the longer entry.
    await until('the second ban to outlast the first', async () => ((await entry())?.left ?? 0) > BANTIME, 2 * BANTIME);
    const second = await entry();
    expect(second?.left).toBeLessThanOrEqual(2 * BANTIME);
    if (backend === 'nftables') expect(second?.timeout).toBe(2 * BANTIME);
    expect((await tsfw('unban', ip.repeat)).exitCode).toBe(0);
    expect(await entry()).toBeUndefined();
    await configure('ipset');
    expect((await tsfw('reload')).exitCode).toBe(0);
  });

  it('chain mode: fail2ban bans into fail2ban-SSH (on nftables: the same set, no chain), and they survive reload', async () => {
    await configure('chain');
    const r = await tsfw('restart');
    expect(r.exitCode, r.stderr).toBe(0);
    for (let i = 0; i < MAXRETRY; i++) await refused(ip.chain, 'wrong-again');
    await until('the attacker in fail2ban-SSH', async () => (await banned()).includes(ip.chain), 60);
    expect(await kernel.chainBanned(ip.chain)).toBe(true);
    const reload = await tsfw('reload');
    expect(reload.exitCode, reload.stderr).toBe(0);
    expect(await banned()).toContain(ip.chain);
    expect(await kernel.chainBanned(ip.chain)).toBe(true);
    expect((await tsfw('recent', 'clear', 'SSH')).exitCode).toBe(0);
    expect(await connects(ip.chain)).toBe(false);
    expect((await tsfw('unban', ip.chain)).exitCode).toBe(0);
    expect(await kernel.chainBanned(ip.chain)).toBe(false);
  });

  it('a fail2ban that cannot start leaves the firewall up and status says degraded', async () => {
    await on(fw, ['systemctl', 'stop', 'fail2ban']);
    // A jail.local naming a filter that does not exist: fail2ban refuses its whole configuration.
    await fw!.copyContentToContainer([{ content: '[tsfw-ssh]\nfilter = no-such-filter\n', target: '/etc/fail2ban/jail.local' }]);
    const r = await tsfw('start');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/fail2ban failed to start \(firewall is up, bans are not\)/);
    const status = await tsfw('status', '--json');
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'degraded', banDaemon: 'stopped' });
    await on(fw, ['rm', '/etc/fail2ban/jail.local']);
  });

  it('a missing fail2ban is a message, not a crash; stop removes the chains and sets', async () => {
    await on(fw, ['mv', '/usr/bin/fail2ban-client', '/usr/bin/fail2ban-client.off']);
    try {
      const refusedYes = await tsfw('start');
      expect(refusedYes.exitCode, refusedYes.stderr).toBe(5);
      expect(refusedYes.stderr).toMatch(/FAIL2BAN=yes but fail2ban is not installed/);
      await configure('chain', 'auto');
      const r = await tsfw('start');
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/fail2ban is not installed: firewall is up, but no log-scanning bans/);
    } finally {
      await on(fw, ['mv', '/usr/bin/fail2ban-client.off', '/usr/bin/fail2ban-client']);
    }
    expect((await tsfw('stop')).exitCode).toBe(0);
    expect(await kernel.leftovers()).toEqual([]);
  });
});
