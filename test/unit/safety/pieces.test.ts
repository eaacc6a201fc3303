/** Small pure or file-level pieces of the safety code that the namespace tests exercise only indirectly. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { isEmptyOpenTable } from '../../../src/backend/iptables/undo.js';
import { netnsTag } from '../../../src/state/dirs.js';
import { confirmPending } from '../../../src/safety/confirm.js';
import { checkpoint } from '../../../src/safety/interrupt.js';
import { clearJournal, readJournal, writeJournal } from '../../../src/safety/journal.js';
import { exclusive } from '../../../src/safety/exclusive.js';
import { lockWaitSeconds } from '../../../src/safety/lock.js';
import { UsageError } from '../../../src/errors.js';

let base: string;
const saved = process.env.TSFIREWALL_RUN_DIR;
beforeEach(() => { base = mkdtempSync(join(tmpdir(), 'tsfw-pieces-')); process.env.TSFIREWALL_RUN_DIR = join(base, 'run'); });
afterEach(() => { process.env.TSFIREWALL_RUN_DIR = saved; rmSync(base, { recursive: true, force: true }); });

test('isEmptyOpenTable: only a table with no rules and ACCEPT policies (or none at all) may be deleted', () => {
  const open = '*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [3:180]\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n';
  expect(isEmptyOpenTable(open, 'nat')).toBe(true);
  expect(isEmptyOpenTable(open, 'filter')).toBe(false);
  expect(isEmptyOpenTable(open, 'mangle')).toBe(true);
  expect(isEmptyOpenTable('*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n', 'nat')).toBe(false);
  expect(isEmptyOpenTable('*nat\n:POSTROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\nCOMMIT\n', 'nat')).toBe(false);
});

test('lock wait: 30 s when unset or empty, else the whole number of seconds it says, 0-600', () => {
  expect(lockWaitSeconds({})).toBe(30);
  expect(lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: '' })).toBe(30);
  expect(lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: '0' })).toBe(0);
  expect(lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: '120' })).toBe(120);
  expect(lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: '600' })).toBe(600);
});

test.each(['abc', '999', '601', '-1', '1.5', '5s', ' 5', '030', '1e3', '5; reboot'])(
  'lock wait %j is a usage error (exit 2) naming the variable and what it takes, not a silent 30 s', (raw) => {
    let err: unknown;
    try { lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: raw }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toBe(
      `TSFIREWALL_LOCK_WAIT must be a whole number of seconds from 0 to 600 (unset: 30), got ${JSON.stringify(raw)}`);
  });

test('a rule-changing verb with a bad lock wait stops before the lock is taken or its work begins', async () => {
  const env = { wait: process.env.TSFIREWALL_LOCK_WAIT, name: process.env.TSFIREWALL_LOCK_NAME };
  process.env.TSFIREWALL_LOCK_WAIT = 'abc';
  process.env.TSFIREWALL_LOCK_NAME = `tsfw-test-${process.pid}`;
  let ran = false;
  try {
    await expect(exclusive(async () => { ran = true; })).rejects.toBeInstanceOf(UsageError);
  } finally {
    for (const [key, value] of [['TSFIREWALL_LOCK_WAIT', env.wait], ['TSFIREWALL_LOCK_NAME', env.name]] as const) {
      if (value === undefined) delete process.env[key]; else process.env[key] = value;
    }
  }
  expect(ran).toBe(false);
});

test('a checkpoint whose name is not in TSFIREWALL_FAULT does nothing', async () => {
  await expect(checkpoint('after-ipv4', { TSFIREWALL_FAULT: 'after-ipv6:kill,after-test:pause' })).resolves.toBeUndefined();
  await expect(checkpoint('after-ipv4', {})).resolves.toBeUndefined();
});

test('the journal round-trips, and a corrupt one is reported, not trusted', () => {
  expect(readJournal()).toBeUndefined();
  const before = { backend: 'iptables-nft', data: { saved: { ipv4: '*filter\nCOMMIT\n' } } } as const;
  writeJournal({ version: 2, pid: 1, verb: 'reload', started: 'now', before, attempted: { backend: 'iptables-nft', parts: [], data: {} } });
  expect(readJournal()?.before).toEqual(before);
  writeFileSync(join(base, 'run', `journal.${netnsTag()}.json`), '{"version":2,"pid":1,"before":{"backend":"nope"},"attempted":{}}');
  expect(() => readJournal()).toThrow(/is corrupt; check the ruleset \(tsfirewall status\), then remove the file/);
  // A journal from before the backend seam is read as the iptables backend's, so its rollback still happens.
  writeFileSync(join(base, 'run', `journal.${netnsTag()}.json`), '{"version":1,"pid":1,"verb":"start","started":"","backend":"legacy","before":{"ipv4":"*filter\\nCOMMIT\\n"},"attempted":{}}');
  expect(readJournal()?.before).toEqual({ backend: 'iptables-legacy', data: { saved: { ipv4: '*filter\nCOMMIT\n' } } });
  clearJournal();
  expect(readJournal()).toBeUndefined();
});

test('confirm refuses a request whose waiter is gone or whose deadline passed', () => {
  expect(confirmPending()).toEqual({ confirmed: false });
  writeJournal({ version: 2, pid: 1, verb: 'x', started: '', before: { backend: 'iptables-nft', data: { saved: {} } }, attempted: { backend: 'iptables-nft', parts: [], data: {} } });
  const request = join(base, 'run', `confirm.${netnsTag()}`);
  writeFileSync(request, `999999999 ${Date.now() + 60_000}\n`);
  expect(confirmPending()).toEqual({ confirmed: false });
  writeFileSync(request, `${process.pid} ${Date.now() - 1}\n`);
  expect(confirmPending()).toEqual({ confirmed: false });
  writeFileSync(request, `${process.pid} ${Date.now() + 60_000}\n`);
  expect(confirmPending()).toEqual({ confirmed: true, pid: String(process.pid) });
});
