/**
 * Issue 14, item 2: the lock-out guard sees live SSH sessions in the kernel, not only in the environment. A
 * listener whose process is named `sshd` (a link to node called sshd: its comm is what the guard looks for) holds a
 * real long-lived TCP connection from the admin's namespace; with NO SSH_CONNECTION in the environment (sudo's
 * env_reset, systemctl reload, the address watcher), a reload that drops port 22 is refused naming that session,
 * and the connection still carries data. SSH_CLIENT alone (sudo keeps it on some hosts) arms the guard too.
 */
import { execa } from 'execa';
import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { openSession, useCliCopy, type BackendName, type Session } from './helpers.js';
import { kernelState, runCli, useScratch } from './safety-kit.js';

const backend: BackendName = 'iptables-nft';
const MYIP = '192.0.2.10';
const ADMIN = '198.51.100.20';
const BASE = 'FAIL2BAN=no\nBAN_MODE=chain\nSERVICE_SSH_RATE_LIMIT=no\n';
const CLOSES_SSH = `${BASE}SERVICES=web\nTRUST_LOCAL_SUBNET=no\n`;

const cli = useCliCopy();
const scratch = useScratch();
let lab: Lab;
let fw: Host;
let admin: Host;
let stopSshd: (() => void) | undefined;
let stopLoggedIn: (() => void) | undefined;
const run = (args: string[], config: string, env: Record<string, string> = {}) =>
  runCli(cli.path, fw, scratch, args, { backend, config: cli.configs.write(config), env });

/**
 * An echo server whose process is called sshd, in the firewall's namespace (bounded lifetime). `title` sets its
 * process title as sshd does for a logged-in session ("sshd: admin@pts/0"); without, it is a listener whose
 * connections are at the password prompt.
 */
async function fakeSshd(host: Host, port = 22, title?: string): Promise<() => void> {
  const sshd = join(scratch.dir, `sshd-${port}`, 'sshd');
  mkdirSync(dirname(sshd));
  symlinkSync(process.execPath, sshd);
  const code = `${title ? `process.title=${JSON.stringify(title)};` : ''}require('net').createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(${port},'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),300000)`;
  const child = execa('ip', ['netns', 'exec', host.ns, sshd, '-e', code], { reject: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake sshd did not start')), 10_000);
    child.stdout?.once('data', () => { clearTimeout(timer); resolve(); });
  });
  return () => { child.kill('SIGKILL'); };
}

beforeAll(async () => {
  lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'admin', segment: 'wan', octet: 20 }]);
  fw = lab.hosts.fw!;
  admin = lab.hosts.admin!;
  stopSshd = await fakeSshd(fw);
  stopLoggedIn = await fakeSshd(fw, 2222, 'sshd: admin@pts/0');
});
afterAll(async () => { stopSshd?.(); stopLoggedIn?.(); await lab?.destroy(); });

test('a reload that drops port 22 is refused for a session found only in /proc/net/tcp', async () => {
  expect((await run(['restart'], BASE)).exitCode).toBe(0);
  const session: Session = await openSession(admin, MYIP, 22);
  try {
    expect(await session.roundTrip('before')).toBe(true);
    const before = await kernelState(fw, backend);
    const r = await run(['reload'], CLOSES_SSH);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`refusing to lock out a live SSH session \\(${ADMIN.replace(/\./g, '\\.')}:\\d+ -> ${MYIP.replace(/\./g, '\\.')}:22, seen in /proc/net/tcp\\)`));
    expect(r.stderr).toMatch(/a new SSH connection from 198\.51\.100\.20 to 192\.0\.2\.10 port 22 would be dropped by the ipv4 INPUT policy DROP/);
    expect(await kernelState(fw, backend)).toBe(before);
    expect(await session.roundTrip('after the refused reload')).toBe(true);
  } finally {
    session.close();
  }
});

test('SSH_CLIENT alone arms the guard (no SSH_CONNECTION, no connection in the kernel)', async () => {
  expect((await run(['restart'], BASE)).exitCode).toBe(0);
  const r = await run(['reload'], CLOSES_SSH, { SSH_CLIENT: `${ADMIN} 40000 22` });
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/a new SSH connection from 198\.51\.100\.20 to 192\.0\.2\.10 port 22 would be dropped/);
});

test('with no session anywhere there is nothing to guard: the reload goes through', async () => {
  expect((await run(['restart'], BASE)).exitCode).toBe(0);
  const r = await run(['reload'], CLOSES_SSH);
  expect(r.exitCode, r.stderr).toBe(0);
});

test('ban refuses the client of a logged-in session found only in the kernel, and the session keeps working', async () => {
  // Opened while the host is open; the started ruleset keeps it through conntrack's ESTABLISHED accept.
  expect((await run(['stop'], BASE)).exitCode).toBe(0);
  const session = await openSession(admin, MYIP, 2222);
  const both = `${BASE}SERVICE_SSH_PORTS="22 2222"\n`;
  try {
    const started = await run(['start'], both);
    expect(started.exitCode, started.stderr).toBe(0);
    const r = await run(['ban', ADMIN], both);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/refusing to ban 198\.51\.100\.20: it is the client of a live SSH session \(198\.51\.100\.20:\d+ -> 192\.0\.2\.10:2222\); nothing was banned/);
    expect(await session.roundTrip('still here')).toBe(true);
  } finally {
    session.close();
  }
});

test('a connection still at the password prompt is no admin: its client can be banned', async () => {
  expect((await run(['restart'], BASE)).exitCode).toBe(0);
  const session = await openSession(admin, MYIP, 22);
  try {
    const r = await run(['ban', ADMIN], BASE);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/banned 1 address in tsfw-ssh/);
    expect(await session.roundTrip('cut by the ban')).toBe(false);
  } finally {
    session.close();
    expect((await run(['unban', ADMIN], BASE)).exitCode).toBe(0);
  }
});
