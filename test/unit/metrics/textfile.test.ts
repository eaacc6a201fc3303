import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { writeTextfile } from '../../../src/metrics/textfile.js';

const dir = mkdtempSync(join(tmpdir(), 'tsfw-textfile-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('replaces the file whole, readable by node_exporter\'s own user, with no temp file left', () => {
  const path = join(dir, 'tsfirewall.prom');
  writeFileSync(path, 'old\n');
  writeTextfile(path, 'tsfirewall_loaded 1\n');
  expect(readFileSync(path, 'utf8')).toBe('tsfirewall_loaded 1\n');
  expect(statSync(path).mode & 0o777).toBe(0o644);
  expect(readdirSync(dir)).toEqual(['tsfirewall.prom']);
});

test('a directory that is not there is an error naming the file, and nothing is left behind', () => {
  expect(() => writeTextfile(join(dir, 'missing', 'tsfirewall.prom'), 'x\n')).toThrow(/cannot write .*missing\/tsfirewall\.prom: ENOENT/);
  expect(readdirSync(dir)).toEqual(['tsfirewall.prom']);
});
