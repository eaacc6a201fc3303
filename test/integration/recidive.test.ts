/**
 * Issue 16, item 6: SERVICE_<NAME>_BAN_SCOPE=all and the recidive jail, with a real fail2ban, once per backend.
 * fail2ban-server runs by hand inside the firewall's namespace (started by tsfirewall itself through
 * TSFIREWALL_FAIL2BAN_RUN), with a copy of the stock configuration and its own socket, pid file, database and log
 * in temp dirs: never the host's daemon. A host banned in the SSH jail is kept from the web too; a host the SSH jail
 * bans twice is banned again by tsfw-recidive, from fail2ban's own log, on every port, and stays out after the SSH
 * jail lets it go. Real connections from other namespaces say so.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FW_AND_NEIGHBOURS, createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { until } from '../harness/poll.js';
import { BACKENDS, connects, tsfwEnv, useCliCopy, type BackendName, type Result } from './helpers.js';

const cli = useCliCopy();
const MYIP = '192.0.2.10';
const HAVE_FAIL2BAN = existsSync('/usr/bin/fail2ban-server') && existsSync('/etc/fail2ban/jail.conf');

describe.skipIf(!HAVE_FAIL2BAN).each(BACKENDS)('ban scope and the recidive jail with a real fail2ban on %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let out: Host;
  let friend: Host;
  let stopListening: (() => void) | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'tsfw-f2b-'));
  const etc = join(tmp, 'etc');
  const runDir = join(tmp, 'run');
  const log = join(tmp, 'fail2ban.log');
  const config = cli.configs.write([
    'FAIL2BAN=yes', 'BAN_MODE=ipset', 'SERVICES=ssh web', 'SERVICE_SSH_BAN_SCOPE=all', `SERVICE_SSH_JAIL_LOGPATH=${join(tmp, 'auth.log')}`,
    'RECIDIVE=yes', 'RECIDIVE_MAXRETRY=2', `RECIDIVE_LOGPATH=${log}`, '',
  ].join('\n'));
  const run = (args: readonly string[]): Promise<Result> => fw.exec([process.execPath, cli.path, '--config', config, ...args], {
    env: {
      ...tsfwEnv(cli.path, backend as BackendName, fw.ns), TSFIREWALL_FAIL2BAN_DIR: etc, TSFIREWALL_FAIL2BAN_RUN: runDir,
      PATH: process.env.PATH ?? '',
    },
    timeoutMs: 120_000,
  });
  const ok = async (args: readonly string[]) => {
    const r = await run(args);
    expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const client = (args: readonly string[]) => fw.exec(['fail2ban-client', '-c', etc, '-s', join(runDir, 'fail2ban.sock'), ...args], { timeoutMs: 30_000 });
  const jailHolds = async (jail: string, ip: string) => (await client(['status', jail])).stdout.includes(ip);

  beforeAll(async () => {
    // The stock configuration, less what enables stock jails; a daemon of our own: socket, pid, database, log.
    cpSync('/etc/fail2ban', etc, { recursive: true });
    for (const f of readdirSync(join(etc, 'jail.d'))) rmSync(join(etc, 'jail.d', f));
    rmSync(join(etc, 'jail.local'), { force: true });
    writeFileSync(join(etc, 'fail2ban.local'), ['[Definition]', 'loglevel = INFO', `logtarget = ${log}`, `socket = ${join(runDir, 'fail2ban.sock')}`,
      `pidfile = ${join(runDir, 'fail2ban.pid')}`, `dbfile = ${join(tmp, 'fail2ban.sqlite3')}`, ''].join('\n'));
    mkdirSync(runDir, { mode: 0o700 });
    writeFileSync(join(tmp, 'auth.log'), '');
    lab = await createLab(FW_AND_NEIGHBOURS);
    fw = lab.hosts.fw!;
    out = lab.hosts.out!;
    friend = lab.hosts.friend!;
    stopListening = await listen(fw, [22, 80]);
  });
  afterAll(async () => {
    stopListening?.();
    if (fw) await run(['stop']).catch(() => undefined);
    // Only the daemon this test started, by the pid it wrote, if the stop did not end it.
    const pid = Number(existsSync(join(runDir, 'fail2ban.pid')) ? readFileSync(join(runDir, 'fail2ban.pid'), 'utf8').trim() : NaN);
    if (Number.isInteger(pid) && pid > 1) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    await lab?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('start writes both jails and starts our own fail2ban in the namespace', async () => {
    const text = await ok(['start']);
    expect(text).toMatch(/fail2ban started \(jails: tsfw-recidive, tsfw-ssh\)/);
    const jail = readFileSync(join(etc, 'jail.d', 'tsfirewall.conf'), 'utf8');
    expect(jail).toContain('filter   = recidive[_jailname=tsfw-recidive]');
    expect(jail).toContain(`logpath  = ${log}`);
    const status = await client(['status']);
    expect(status.stdout).toMatch(/Jail list:\s*tsfw-recidive, tsfw-ssh/);
    expect(await connects(friend, MYIP, 80)).toBe(true);
  });

  test('BAN_SCOPE=all: a host banned in the SSH jail (through fail2ban) is kept from the web too', async () => {
    await ok(['ban', '--jail', 'ssh', friend.ip]);
    expect(await jailHolds('tsfw-ssh', friend.ip), 'fail2ban knows the ban').toBe(true);
    expect(await connects(friend, MYIP, 80, 1000), 'web').toBe(false);
    expect(await connects(friend, MYIP, 22, 1000), 'ssh').toBe(false);
    expect(await connects(out, MYIP, 80), 'another host').toBe(true);
    await ok(['unban', friend.ip]);
    expect(await connects(friend, MYIP, 80), 'unbanned').toBe(true);
  });

  test('banned twice in the SSH jail: tsfw-recidive bans the host from every port, and it stays out after the SSH jail lets it go', async () => {
    await ok(['ban', '--jail', 'ssh', out.ip]);
    await ok(['unban', '--jail', 'ssh', out.ip]);
    expect(await connects(out, MYIP, 80), 'one ban is no repeat offence').toBe(true);
    await ok(['ban', '--jail', 'ssh', out.ip]);
    await until('tsfw-recidive to ban the repeat offender from fail2ban\'s own log', () => jailHolds('tsfw-recidive', out.ip), 60);
    await ok(['unban', '--jail', 'ssh', out.ip]);
    expect(await connects(out, MYIP, 80, 1000), 'web, kept out by the recidive ban').toBe(false);
    expect(await connects(out, MYIP, 22, 1000), 'ssh, likewise').toBe(false);
    const bans = JSON.parse(await ok(['bans', '--json'])) as { jails: { jail: string; addresses: string[]; expiresIn: Record<string, number> }[] };
    const recidive = bans.jails.find((j) => j.jail === 'tsfw-recidive')!;
    expect(recidive.addresses).toEqual([out.ip]);
    expect(recidive.expiresIn[out.ip]).toBeGreaterThan(600_000);
    expect(bans.jails.find((j) => j.jail === 'tsfw-ssh')!.addresses).toEqual([]);
    expect(readFileSync(log, 'utf8')).toMatch(new RegExp(`NOTICE\\s+\\[tsfw-recidive\\] Ban ${out.ip.replace(/\./g, '\\.')}`));
  });

  test('unban --jail recidive lets the host back; stop ends our fail2ban', async () => {
    await ok(['unban', '--jail', 'recidive', out.ip]);
    expect(await connects(out, MYIP, 80), 'back').toBe(true);
    await ok(['stop']);
    await until('our fail2ban to exit', async () => !existsSync(join(runDir, 'fail2ban.sock')), 30);
  });
});
