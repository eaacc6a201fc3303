/**
 * Issue 15's first proof: a real attacker fails SSH logins against a real sshd on host A, a real fail2ban-server on
 * A bans it through tsfirewall's actions (the backend's set action, and tsfirewall-fleet, which queues the ban for
 * the fleet), and every other host of the fleet then drops the attacker's packets. sshd and fail2ban run by hand in
 * A's namespace, in a private mount namespace whose /run/fail2ban, /run/sshd and /etc/fail2ban are this test's own
 * directories: nothing of this machine's is used or started.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Host } from '../harness/netns.js';
import { until } from '../harness/poll.js';
import { connects, mustExec, tsfwOk, useCliCopy } from './helpers.js';
import { ATTACKER_IP, banned, createFleetLab, listen, startFleet, type FleetHost, type FleetLab } from './fleet-kit.js';

const cli = useCliCopy();
let dir = '';
let authLog = '';
let fl: FleetLab;
const stops: (() => void)[] = [];

/**
 * A's commands run with this test's fail2ban and sshd directories mounted over the system's (a private mount
 * namespace). The mount points are made first: on a machine where neither daemon ever ran, /run has neither.
 */
const mounts = () => ['unshare', '-m', 'sh', '-c',
  'f=$1; s=$2; e=$3; shift 3; mkdir -p /run/fail2ban /run/sshd && mount --bind "$f" /run/fail2ban && mount --bind "$s" /run/sshd && mount --bind "$e" /etc/fail2ban && exec "$@"',
  'sh', join(dir, 'run-fail2ban'), join(dir, 'run-sshd'), join(dir, 'etc')];
const privateMounts = (base: Host): Host => ({ ...base, ownFail2ban: true, exec: (argv, opts) => base.exec([...mounts(), ...argv], opts) });
let sshd: ResultPromise | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsfw-f2b-'));
  // sshd refuses a host key or config in a directory others could write: this one is root's, 0755.
  chmodSync(dir, 0o755);
  authLog = join(dir, 'auth.log');
  for (const d of ['run-fail2ban', 'run-sshd']) mkdirSync(join(dir, d), { mode: 0o755 });
  cpSync('/etc/fail2ban', join(dir, 'etc'), { recursive: true });
  rmSync(join(dir, 'etc', 'jail.d', 'defaults-debian.conf'), { force: true });
  writeFileSync(join(dir, 'etc', 'fail2ban.d', 'tsfw-test.local'), `[Definition]\nlogtarget = ${join(dir, 'fail2ban.log')}\ndbfile = ${join(dir, 'fail2ban.sqlite3')}\n`);
  writeFileSync(authLog, '');
  fl = await createFleetLab(cli.path, {
    hostConfig: (h) => (h.name === 'a' ? `FAIL2BAN=yes\nSERVICE_SSH_JAIL_LOGPATH=${authLog}\nSERVICE_SSH_JAIL_MAXRETRY=2\n` : 'FAIL2BAN=no\n'),
    wrap: (h, host) => (h.name === 'a' ? privateMounts(host) : host),
  });
  const a = fl.hosts.a!;
  await mustExec(a.host, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
  writeFileSync(join(dir, 'sshd_config'), `Port 22\nListenAddress ${a.host.ip}\nHostKey ${join(dir, 'hostkey')}\nPidFile ${join(dir, 'sshd.pid')}\n` +
    'UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nLogLevel INFO\nMaxStartups 100\n');
  // sshd in the foreground, its log lines given the syslog date and tag a syslog daemon would add (fail2ban's sshd
  // filter finds the time of each failure there), appended to the file the jail reads.
  sshd = execa('ip', ['netns', 'exec', a.host.ns, ...mounts(), 'sh', '-c',
    `/usr/sbin/sshd -D -e -f ${join(dir, 'sshd_config')} 2>&1 | while IFS= read -r l; do printf '%s hosta sshd[1]: %s\\n' "$(date '+%b %e %H:%M:%S')" "$l"; done >> ${authLog}`],
  { reject: false, stdin: 'ignore' });
  await until('sshd listening on A', () => connects(fl.attacker, a.host.ip, 22), 60);
  for (const x of Object.values(fl.hosts).filter((y) => y.name !== 'a')) stops.push(await listen(x.host, [22]));
  await Promise.all(Object.values(fl.hosts).map((x) => startFleet(cli.path, x)));
}, 600_000);

afterAll(async () => {
  for (const stop of stops) stop();
  if (fl) {
    await fl.hosts.a!.host.exec(['fail2ban-client', 'stop'], { timeoutMs: 60_000 }).catch(() => undefined);
    await fl.hosts.a!.host.exec(['sh', '-c', `kill $(cat ${join(dir, 'sshd.pid')})`]).catch(() => undefined);
    sshd?.kill('SIGKILL');
    await fl.destroy();
  }
  // The daemons' logs outlive the lab, for a failure's post-mortem.
  if (dir) {
    for (const f of ['auth.log', 'fail2ban.log']) {
      if (existsSync(join(dir, f))) cpSync(join(dir, f), join(tmpdir(), `tsfw-f2b-last-${f}`), { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);


const attempt = (a: FleetHost) => fl.attacker.exec(['ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'ConnectTimeout=5', `nosuchuser@${a.host.ip}`, 'true'], { timeoutMs: 30_000 });

test('fail2ban bans an SSH attacker on A; every other host then drops its packets; fail2ban\'s unban lifts it everywhere', async () => {
  const a = fl.hosts.a!;
  const others = Object.values(fl.hosts).filter((x) => x.name !== 'a');
  for (const x of others) expect(await connects(fl.attacker, x.host.ip, 22), `attacker -> ${x.fleet} before`).toBe(true);
  // Failed logins until fail2ban bans (maxretry 2): bounded in count, each waiting for the ban's own event.
  for (let i = 0; i < 6 && !(await banned(a, ATTACKER_IP)); i++) {
    const r = await attempt(a);
    expect(r.exitCode, 'the attacker is not let in').not.toBe(0);
    // fail2ban reads the log in its own time: the next attempt (or the wait below) gives it that.
    await until('fail2ban banning or reading on', () => banned(a, ATTACKER_IP), 3).catch(() => undefined);
  }
  await until('fail2ban\'s ban on A', () => banned(a, ATTACKER_IP), 60);
  const jail = await mustExec(a.host, ['fail2ban-client', 'status', 'tsfw-ssh']);
  expect(jail).toMatch(new RegExp(`Banned IP list:.*${ATTACKER_IP.replaceAll('.', '\\.')}`));
  for (const x of others) {
    await until(`${x.fleet} dropping the attacker`, async () => (await banned(x, ATTACKER_IP)) && !(await connects(fl.attacker, x.host.ip, 22, 1000)), 60);
  }
  const listing = await tsfwOk(cli.path, fl.hosts.d!.host, fl.hosts.d!.backend, ['bans'], fl.hosts.d!.config);
  expect(listing).toMatch(/198\.51\.100\.66 .* from hostA/);
  await tsfwOk(cli.path, a.host, a.backend, ['unban', ATTACKER_IP], a.config);
  for (const x of others) await until(`${x.fleet} letting the attacker in again`, () => connects(fl.attacker, x.host.ip, 22, 1000), 60);
  expect(await mustExec(a.host, ['fail2ban-client', 'status', 'tsfw-ssh'])).not.toContain(ATTACKER_IP);
}, 600_000);
