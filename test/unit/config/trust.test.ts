/**
 * A config file is obeyed only if nobody but root (or the user running tsfirewall) can change it, as sshd's
 * StrictModes does for authorized_keys: the file, the directory holding it (sticky or not) and every directory above
 * (where a sticky one, like /tmp, is fine). Real files, real chmod and chown, in a private temp dir.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { configTrustProblems } from '../../../src/config/trust.js';
import { ConfigError } from '../../../src/errors.js';

const asRoot = process.geteuid?.() === 0;
const STRANGER = 54321;
let base: string;
let dir: string;
let file: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsfw-trust-'));
  dir = join(base, 'etc');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  file = join(dir, 'tsfirewall');
  writeFileSync(file, 'SERVICES=ssh\n', { mode: 0o644 });
  chmodSync(file, 0o644);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('safe: accepted without a word', () => {
  test('0644 or 0600 in a 0755 directory under a 0700 one under sticky /tmp', () => {
    expect(configTrustProblems(file)).toEqual([]);
    chmodSync(file, 0o600);
    expect(configTrustProblems(file)).toEqual([]);
    expect(loadConfig(file, {}).config.services.map((s) => s.name)).toEqual(['ssh']);
  });

  test('a symlink in a safe directory to a safe file', () => {
    symlinkSync(file, join(base, 'link'));
    expect(configTrustProblems(join(base, 'link'))).toEqual([]);
  });

  test.skipIf(!asRoot)('a file owned by the user running tsfirewall (not root) is that user\'s to write', () => {
    chownSync(file, STRANGER, STRANGER);
    chownSync(dir, STRANGER, STRANGER);
    expect(configTrustProblems(file, STRANGER)).toEqual([]);
  });
});

describe('refused, each problem saying how to fix it', () => {
  test.each([['0666', 'group and others'], ['0664', 'its group'], ['0646', 'others']])('the file at mode %s (writable by %s)', (mode, who) => {
    chmodSync(file, parseInt(mode, 8));
    expect(configTrustProblems(file)).toEqual([
      `config file ${file} is writable by ${who} (mode ${mode}), who could then decide what the firewall lets in; fix: chmod go-w ${file}`,
    ]);
  });

  test.skipIf(!asRoot)('the file owned by another user', () => {
    chownSync(file, STRANGER, 0);
    expect(configTrustProblems(file)).toEqual([
      `config file ${file} is owned by uid ${STRANGER}, not root, who could then decide what the firewall lets in; fix: chown root ${file}`,
    ]);
  });

  test.each(['0777', '0775', '01777'])('the directory holding it at mode %s, sticky or not', (mode) => {
    chmodSync(dir, parseInt(mode, 8));
    const who = mode === '0775' ? 'its group' : 'group and others';
    expect(configTrustProblems(file)).toEqual([
      `directory ${dir}, which holds the config file, is writable by ${who} (mode ${mode}), who could then replace the file; ` +
        `fix: chmod go-w ${dir}, or keep the config in a directory only root can write`,
    ]);
  });

  test.skipIf(!asRoot)('the directory holding it owned by another user', () => {
    chownSync(dir, STRANGER, 0);
    expect(configTrustProblems(file)).toEqual([
      `directory ${dir}, which holds the config file, is owned by uid ${STRANGER}, not root, who could then replace the file; fix: chown root ${dir}`,
    ]);
  });

  test('a directory further up that others can write (not sticky); a sticky one there, like /tmp, is fine', () => {
    chmodSync(base, 0o1777);
    expect(configTrustProblems(file)).toEqual([]);
    chmodSync(base, 0o777);
    expect(configTrustProblems(file)).toEqual([
      `directory ${base}, on the way to the config file, is writable by group and others (mode 0777), who could then replace what is in it; ` +
        `fix: chmod go-w ${base}, or keep the config in a directory only root can write`,
    ]);
  });

  test('a symlink kept in a directory others can write, even to a safe file', () => {
    const loose = join(base, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    symlinkSync(file, join(loose, 'tsfirewall'));
    expect(configTrustProblems(join(loose, 'tsfirewall'))).toEqual([expect.stringMatching(
      new RegExp(`^directory ${loose}, which holds the config file, is writable by group and others \\(mode 0777\\)`))]);
  });

  test('every problem at once, and through the loader: exit 6, nothing read', () => {
    chmodSync(file, 0o666);
    chmodSync(dir, 0o777);
    writeFileSync(file, 'TRUSTED_NETS=0.0.0.0/0\n');
    let err: unknown;
    try { loadConfig(file, {}); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(6);
    expect((err as ConfigError).message.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${file}: config file ${file} is writable by group and others .*; fix: chmod go-w ${file}$`)),
      expect.stringMatching(new RegExp(`^${file}: directory ${dir}, which holds the config file, .*; fix: chmod go-w ${dir}, or keep`)),
    ]);
  });
});
