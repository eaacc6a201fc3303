import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { countBans, parseTally, readTally, TALLY_FILE } from '../../../src/bans/tally.js';

const parent = mkdtempSync(join(tmpdir(), 'tsfw-tally-'));
const dir = join(parent, 'state');
afterAll(() => rmSync(parent, { recursive: true, force: true }));

test('counts add up per jail across calls, in a file that is replaced whole', () => {
  countBans('tsfw-ssh', { added: 3 }, dir);
  countBans('tsfw-ssh', { removed: 1 }, dir);
  countBans('tsfw-smtp', { added: 1, expired: 1 }, dir);
  countBans('tsfw-smtp', {}, dir);
  expect(readTally(dir)).toEqual({ 'tsfw-ssh': { added: 3, removed: 1, expired: 0 }, 'tsfw-smtp': { added: 1, removed: 0, expired: 1 } });
});

test('a malformed file or field counts from zero again instead of failing a ban verb', () => {
  expect(parseTally('not json')).toEqual({});
  expect(parseTally(JSON.stringify({ jails: { a: { added: -1, removed: 'x', expired: 2 } } }))).toEqual({ a: { added: 0, removed: 0, expired: 2 } });
  writeFileSync(join(dir, TALLY_FILE), '{');
  countBans('tsfw-ssh', { added: 1 }, dir);
  expect(readTally(dir)).toEqual({ 'tsfw-ssh': { added: 1, removed: 0, expired: 0 } });
});
