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
import { lockWaitSeconds } from '../../../src/safety/lock.js';

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

test('lock wait: 30 s by default, bounded to 600, junk ignored', () => {
  expect(lockWaitSeconds({})).toBe(30);
  expect(lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: '0' })).toBe(0);
  expect(lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: '999' })).toBe(600);
  expect(lockWaitSeconds({ TSFIREWALL_LOCK_WAIT: '5; reboot' })).toBe(30);
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
