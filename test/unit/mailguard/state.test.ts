import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseState, readState, removeState, serializeState, statePath, writeState, type GuardState } from '../../../src/mailguard/state.js';

const STATE: GuardState = {
  version: 1,
  account: 'notausers',
  createdAccount: true,
  enabledAt: '2024-01-01T00:00:00.000Z',
  previous: { luser_relay: { set: false }, local_recipient_maps: { set: true, value: 'proxy:unix:passwd.byname $alias_maps' } },
};

let root = '';
beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'tsfw-mailguard-')); chmodSync(root, 0o755); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('state file contents', () => {
  test('round-trips, including "was unset" and values with blanks', () => {
    expect(parseState(serializeState(STATE))).toEqual(STATE);
  });

  test.each([
    ['not json', /not valid JSON/],
    ['{"version":2}', /unknown format version/],
    [JSON.stringify({ ...STATE, account: 'root' }), /account: .*real mail/],
    [JSON.stringify({ ...STATE, account: 'a;rm -rf /' }), /account: expected an account name/],
    [JSON.stringify({ ...STATE, previous: { luser_relay: { set: false } } }), /local_recipient_maps is missing/],
    [JSON.stringify({ ...STATE, previous: { ...STATE.previous, luser_relay: { set: true, value: 'a\nb' } } }), /luser_relay is missing or malformed/],
  ])('refuses a corrupt file: %s', (text, message) => {
    expect(() => parseState(text, '/var/lib/tsfirewall/mailguard.json')).toThrow(message);
  });
});

describe('state file on disk (through the shared helper)', () => {
  test('round-trips through disk, 0600 in a 0700 directory, no temp file left; removal is idempotent', () => {
    const dir = join(root, 'lib');
    writeState(STATE, dir);
    expect(readState(dir)).toEqual(STATE);
    expect(readdirSync(dir)).toEqual(['mailguard.json']);
    expect(statSync(statePath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    removeState(dir);
    expect(readState(dir)).toBeUndefined();
    removeState(dir);
  });

  test('a missing directory reads as "not enabled" and is not created by reading', () => {
    expect(readState(join(root, 'none'))).toBeUndefined();
    expect(readdirSync(root)).toEqual([]);
  });

  test('refuses to read or replace a symlinked state file, leaving its target alone', () => {
    const victim = join(root, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, statePath(root));
    expect(() => readState(root)).toThrow(/symlink/);
    expect(() => writeState(STATE, root)).toThrow(/symlink/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  test('refuses a symlinked state directory', () => {
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'link'));
    expect(() => writeState(STATE, join(root, 'link'))).toThrow(/symlink/);
  });
});
