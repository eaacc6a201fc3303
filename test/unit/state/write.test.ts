import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ensureStateDir, readStateFile, removeStateFile, StateError, writeStateFile } from '../../../src/state/write.js';

let base: string;
beforeEach(() => { base = mkdtempSync(join(tmpdir(), 'tsfw-state-')); chmodSync(base, 0o755); });
afterEach(() => rmSync(base, { recursive: true, force: true }));

test('creates the directory 0700 and the file 0600, and reads it back', () => {
  const dir = join(base, 'state');
  writeStateFile(dir, 'bans.json', '{"a":1}\n');
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(statSync(join(dir, 'bans.json')).mode & 0o777).toBe(0o600);
  expect(readStateFile(dir, 'bans.json')).toBe('{"a":1}\n');
  expect(readStateFile(dir, 'missing.json')).toBeUndefined();
  writeStateFile(dir, 'bans.json', 'second');
  expect(readStateFile(dir, 'bans.json')).toBe('second');
  expect(readdirSync(dir)).toEqual(['bans.json']);
  removeStateFile(dir, 'bans.json');
  removeStateFile(dir, 'bans.json');
  expect(readdirSync(dir)).toEqual([]);
});

test('tightens an existing directory of ours to 0700', () => {
  const dir = join(base, 'state');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  ensureStateDir(dir);
  expect(statSync(dir).mode & 0o777).toBe(0o700);
});

test('refuses a symlinked state directory and never writes through it', () => {
  const victim = join(base, 'victim');
  mkdirSync(victim, { mode: 0o700 });
  const dir = join(base, 'state');
  symlinkSync(victim, dir);
  expect(() => writeStateFile(dir, 'bans.json', 'x')).toThrow(/symlink/);
  expect(readdirSync(victim)).toEqual([]);
});

test('refuses a directory owned by someone else', () => {
  const dir = join(base, 'state');
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, 65534, 65534);
  expect(() => writeStateFile(dir, 'bans.json', 'x')).toThrow(/owned by uid 65534/);
});

test('refuses a parent others can write without the sticky bit, accepts a sticky one', () => {
  chmodSync(base, 0o777);
  expect(() => ensureStateDir(join(base, 'state'))).toThrow(/writable by group or others/);
  chmodSync(base, 0o1777);
  expect(ensureStateDir(join(base, 'state'))).toBe(join(base, 'state'));
});

test('refuses to replace or read a symlink planted at the file name; its target stays untouched', () => {
  const dir = ensureStateDir(join(base, 'state'));
  const secret = join(base, 'passwd');
  writeFileSync(secret, 'root:x:0:0\n');
  symlinkSync(secret, join(dir, 'bans.json'));
  expect(() => writeStateFile(dir, 'bans.json', 'pwned')).toThrow(StateError);
  expect(() => readStateFile(dir, 'bans.json')).toThrow(/symlink/);
  expect(readFileSync(secret, 'utf8')).toBe('root:x:0:0\n');
  removeStateFile(dir, 'bans.json');
  expect(lstatSync(secret).isFile()).toBe(true);
});

test('refuses a FIFO or directory where the file should be, and file names that leave the directory', () => {
  const dir = ensureStateDir(join(base, 'state'));
  mkdirSync(join(dir, 'sub'));
  expect(() => writeStateFile(dir, 'sub', 'x')).toThrow(/not a regular file/);
  for (const name of ['../x', 'a/b', '.hidden', '', 'x'.repeat(200)]) {
    expect(() => writeStateFile(dir, name, 'x')).toThrow(/bad state file name/);
  }
});

test('text in pieces is written whole, and a piece that fails leaves the previous file as it was', () => {
  const dir = join(base, 'state');
  writeStateFile(dir, 'ledger.txt', (function* () { yield 'one\n'; yield 'two\n'; yield 'é\n'; })());
  expect(readStateFile(dir, 'ledger.txt')).toBe('one\ntwo\né\n');
  const failing = (function* () { yield 'half\n'; throw new Error('the source broke'); })();
  expect(() => writeStateFile(dir, 'ledger.txt', failing)).toThrow(/the source broke/);
  expect(readStateFile(dir, 'ledger.txt')).toBe('one\ntwo\né\n');
  expect(readdirSync(dir)).toEqual(['ledger.txt']);
});
