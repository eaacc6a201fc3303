import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { isLoggedInTitle, parseProcNetTcp, sessionsOn, TCP_ESTABLISHED, TCP_LISTEN } from '../../../src/safety/proc-net.js';
import { kernelSessions, liveSessions } from '../../../src/safety/sessions.js';

// Captured in `unshare -n` (x86-64, little-endian): sshd-like listeners on 0.0.0.0:22 and [::]:22 (v6only),
// a dual-stack one on [::]:8080, and one client connection to each of 192.0.2.1:22, [2001:db8::1]:22,
// 192.0.2.1:8080 and 127.0.0.1:8080.
const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const TCP = fixture('proc-net-tcp.txt');
const TCP6 = fixture('proc-net-tcp6.txt');
const SSHD_LISTENERS = new Set([642551, 642552]);

test('reads addresses, ports, states and inodes of real /proc/net/tcp text', () => {
  const sockets = parseProcNetTcp(TCP, 'LE');
  expect(sockets).toHaveLength(5);
  expect(sockets[0]).toEqual({ local: { ip: '0.0.0.0', port: 22 }, remote: { ip: '0.0.0.0', port: 0 }, state: TCP_LISTEN, inode: 642551 });
  expect(sockets[4]).toEqual({ local: { ip: '192.0.2.1', port: 22 }, remote: { ip: '192.0.2.1', port: 45001 }, state: TCP_ESTABLISHED, inode: 642558 });
  expect(sockets[2]!.local).toEqual({ ip: '127.0.0.1', port: 41142 });
});

test('reads IPv6 words in host order and gives v4-mapped addresses back as IPv4', () => {
  const sockets = parseProcNetTcp(TCP6, 'LE');
  expect(sockets.map((s) => `${s.local.ip} ${s.local.port} ${s.state}`)).toEqual([
    ':: 22 10', ':: 8080 10', '192.0.2.1 8080 1', '2001:db8::1 22 1', '127.0.0.1 8080 1', '2001:db8::1 38298 1',
  ]);
});

test('a big-endian host prints the bytes in network order', () => {
  const be = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
    '   0: C0000201:0016 C6336414:C350 01 00000000:00000000 00:00000000 00000000     0        0 77 1 0 20 0 0 10 -1\n';
  expect(parseProcNetTcp(be, 'BE')[0]).toMatchObject({ local: { ip: '192.0.2.1', port: 22 }, remote: { ip: '198.51.100.20', port: 50000 } });
});

test('skips the header and lines that are not sockets', () => {
  expect(parseProcNetTcp('  sl  local_address\n\n   0: zz:0016 00000000:0000 0A 0 0 0 0 0 1\n', 'LE')).toEqual([]);
});

test('sessions are the established connections to sshd\'s listeners only, from the server side', () => {
  const sockets = [...parseProcNetTcp(TCP, 'LE'), ...parseProcNetTcp(TCP6, 'LE')];
  expect(sessionsOn(sockets, SSHD_LISTENERS)).toEqual([
    { client: '192.0.2.1', clientPort: 45001, server: '192.0.2.1', serverPort: 22, inode: 642558 },
    { client: '2001:db8::1', clientPort: 38298, server: '2001:db8::1', serverPort: 22, inode: 642559 },
  ]);
  // The dual-stack 8080 listener is not sshd's; once it is, its IPv4 clients count as IPv4 sessions.
  expect(sessionsOn(sockets, new Set([642553])).map((s) => `${s.client}:${s.clientPort}`)).toEqual(['192.0.2.1:48244', '127.0.0.1:41142']);
  expect(sessionsOn(sockets, new Set())).toEqual([]);
});

test.each([
  ['sshd: root@pts/0', true],
  ['sshd: admin@notty', true],
  ['sshd-session: admin@pts/3', true],
  ['sshd: admin [priv]', false],
  ['sshd: [accepted]', false],
  ['sshd: unknown [net]', false],
  ['sshd: 203.0.113.9 [preauth]', false],
  ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups', false],
  ['/usr/sbin/sshd\0-D\0', false],
])('process title %j is logged in: %s', (title, want) => {
  expect(isLoggedInTitle(title)).toBe(want);
});

let proc: string;
beforeEach(() => { proc = mkdtempSync(join(tmpdir(), 'tsfw-proc-')); });
afterEach(() => rmSync(proc, { recursive: true, force: true }));

/** A /proc with the captured socket tables and one process per entry (comm, cmdline, fds naming socket inodes). */
function fakeProc(processes: Record<string, { comm: string; cmdline: string; sockets: number[] }>): void {
  mkdirSync(join(proc, 'net'));
  writeFileSync(join(proc, 'net', 'tcp'), TCP);
  writeFileSync(join(proc, 'net', 'tcp6'), TCP6);
  for (const [pid, p] of Object.entries(processes)) {
    mkdirSync(join(proc, pid, 'fd'), { recursive: true });
    writeFileSync(join(proc, pid, 'comm'), `${p.comm}\n`);
    writeFileSync(join(proc, pid, 'cmdline'), p.cmdline);
    p.sockets.forEach((inode, i) => symlinkSync(`socket:[${inode}]`, join(proc, pid, 'fd', String(i + 3))));
    symlinkSync('/dev/null', join(proc, pid, 'fd', '0'));
  }
}

const interfaces = () => ({ lo: [{ address: '192.0.2.1' }, { address: '2001:db8::1' }] }) as unknown as ReturnType<typeof import('node:os').networkInterfaces>;

test('kernel sessions: the listener found by inode through /proc/PID/fd, logged in when its holder\'s title says so', () => {
  fakeProc({
    100: { comm: 'sshd', cmdline: 'sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups', sockets: [...SSHD_LISTENERS] },
    200: { comm: 'sshd', cmdline: 'sshd: admin@pts/0', sockets: [642558] },
    300: { comm: 'sshd', cmdline: 'sshd: unknown [net]', sockets: [642559] },
    400: { comm: 'node', cmdline: 'node', sockets: [642553] },
  });
  expect(kernelSessions(proc).map((s) => [s.client, s.clientPort, s.loggedIn])).toEqual([['192.0.2.1', 45001, true], ['2001:db8::1', 38298, false]]);
});

test('no process named sshd: no kernel sessions, whatever listens on 22', () => {
  fakeProc({ 400: { comm: 'node', cmdline: 'node', sockets: [642551, 642552, 642558] } });
  expect(kernelSessions(proc)).toEqual([]);
});

test('live sessions: SSH_CONNECTION first, SSH_CLIENT with its server from the kernel, no duplicates', () => {
  fakeProc({ 100: { comm: 'sshd', cmdline: 'sshd: admin@pts/0', sockets: [...SSHD_LISTENERS, 642558, 642559] } });
  const viaEnv = liveSessions({ procRoot: proc, interfaces, env: { SSH_CONNECTION: '192.0.2.1 45001 192.0.2.1 22' } });
  expect(viaEnv.map((s) => `${s.via} ${s.client}:${s.clientPort}`)).toEqual(['SSH_CONNECTION 192.0.2.1:45001', 'kernel 2001:db8::1:38298']);
  const viaClient = liveSessions({ procRoot: proc, interfaces, env: { SSH_CLIENT: '2001:db8::1 38298 22' } });
  expect(viaClient[0]).toEqual({ client: '2001:db8::1', clientPort: 38298, server: '2001:db8::1', serverPort: 22, via: 'SSH_CLIENT', loggedIn: true });
  expect(viaClient).toHaveLength(2);
});

test('SSH_CLIENT the kernel does not show takes the fallback server address, or is no session without one', () => {
  fakeProc({});
  expect(liveSessions({ procRoot: proc, interfaces, env: { SSH_CLIENT: '198.51.100.20 40000 22' }, serverFallback: '192.0.2.10' }))
    .toEqual([{ client: '198.51.100.20', clientPort: 40000, server: '192.0.2.10', serverPort: 22, via: 'SSH_CLIENT', loggedIn: true }]);
  expect(liveSessions({ procRoot: proc, interfaces, env: { SSH_CLIENT: '198.51.100.20 40000 22' } })).toEqual([]);
  expect(liveSessions({ procRoot: proc, interfaces, env: { SSH_CLIENT: '198.51.100.20 40000' }, serverFallback: '192.0.2.10' })).toEqual([]);
});

test('a kernel session to an address no interface has any more died with it and is left out', () => {
  fakeProc({ 100: { comm: 'sshd', cmdline: 'sshd: admin@pts/0', sockets: [...SSHD_LISTENERS, 642558, 642559] } });
  const only6 = () => ({ eth0: [{ address: '2001:db8::1' }] }) as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
  expect(liveSessions({ procRoot: proc, interfaces: only6, env: {} }).map((s) => s.client)).toEqual(['2001:db8::1']);
});
