/**
 * The verb lock with real holders in other processes: one that binds the name through node:net (the fallback, and
 * every tsfirewall before the libc socket) and one through the lock itself. Each test has its own name
 * (TSFIREWALL_LOCK_NAME), an abstract socket of this namespace: no firewall is touched.
 */
import { execa, type ResultPromise } from 'execa';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { acquireLock, holderPid, LockBusyError } from '../../../src/safety/lock.js';
import { until } from '../../harness/poll.js';

let children: ResultPromise[] = [];
let name = '';
beforeEach(() => {
  name = `tsfw-test-${randomUUID()}`;
  process.env.TSFIREWALL_LOCK_NAME = name;
});
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.allSettled(children);
  children = [];
  delete process.env.TSFIREWALL_LOCK_NAME;
});

const abstract = () => `\0${name}`;

/**
 * A process that holds the name with node:net until killed; resolves once the kernel lists it as the holder. Its pid
 * and kill, not the execa promise itself, which is a thenable that awaiting would wait out.
 */
async function netHolder(): Promise<{ pid: number | undefined; kill: ResultPromise['kill'] }> {
  const child = execa(process.execPath, ['-e', `require('net').createServer().listen({ path: '\\0' + process.argv[1] })`, name],
    { reject: false, stdin: 'ignore' });
  children.push(child);
  await until('the node:net holder listening', async () => holderPid(abstract()) === String(child.pid), 30);
  return { pid: child.pid, kill: child.kill.bind(child) };
}

/** Whether node:net can bind the name now (in a process of its own, as another tsfirewall would). */
async function netCanBind(): Promise<boolean> {
  const r = await execa(process.execPath, ['-e',
    `const s = require('net').createServer(); s.once('error', (e) => { console.log(e.code); process.exit(0) });
     s.listen({ path: '\\0' + process.argv[1] }, () => { console.log('bound'); s.close() })`, name], { reject: false, timeout: 30_000 });
  expect(['bound', 'EADDRINUSE']).toContain(r.stdout.trim());
  return r.stdout.trim() === 'bound';
}

test('a node:net holder makes the lock wait, then fail naming its pid; nothing is taken', async () => {
  const holder = await netHolder();
  expect(holderPid(abstract())).toBe(String(holder.pid));
  const err = await acquireLock(0).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LockBusyError);
  expect((err as Error).message).toBe(`another tsfirewall is running (pid ${holder.pid}); gave up after waiting 0 s, nothing was changed`);
});

test('the lock excludes a node:net bind of the same name, and releasing it frees the name', async () => {
  const lock = await acquireLock(0);
  expect(holderPid(abstract())).toBe('unknown'); // the holder is this process, which is never named
  expect(await netCanBind()).toBe(false);
  lock.release();
  lock.release(); // twice is harmless
  expect(await netCanBind()).toBe(true);
});

test('a waiter takes the lock once its node:net holder exits', async () => {
  const holder = await netHolder();
  const waiting = acquireLock(30);
  holder.kill('SIGTERM');
  const lock = await waiting;
  expect(await netCanBind()).toBe(false);
  lock.release();
});

test('a program started while the lock is held does not inherit it', async () => {
  const lock = await acquireLock(0);
  const sleeper = execa('sleep', ['60'], { reject: false });
  children.push(sleeper);
  await until('sleep started', async () => sleeper.pid !== undefined, 10);
  lock.release();
  expect(await netCanBind()).toBe(true);
  expect(holderPid(abstract())).toBe('unknown');
});

test('no holder: holderPid says unknown', () => {
  expect(holderPid(abstract())).toBe('unknown');
});
