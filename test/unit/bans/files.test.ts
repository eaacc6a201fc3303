import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ourFiles, writeFail2banConfig, writeIfChanged } from '../../../src/bans/files.js';
import { iptablesBackend } from '../../../src/backend/iptables/index.js';
import { SEED_HOST, config } from '../fixtures.js';

const dirs: string[] = [];
const scratch = () => { const d = mkdtempSync(join(tmpdir(), 'tsfw-f2b-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const journal = { hasJournalmatch: () => true };

describe('writing fail2ban\'s files', () => {
  test('written once, then left alone while the text is the same; no temp files left behind', () => {
    const path = join(scratch(), 'jail.d', 'x.conf');
    expect(writeIfChanged(path, 'a\n')).toBe(true);
    const mtime = statSync(path).mtimeMs;
    expect(writeIfChanged(path, 'a\n')).toBe(false);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(writeIfChanged(path, 'b\n')).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('b\n');
    expect(readdirSync(join(path, '..'))).toEqual(['x.conf']);
  });

  test('the jail and both actions, reporting change only the first time', () => {
    const dir = scratch();
    const first = writeFail2banConfig(config(), SEED_HOST, iptablesBackend('nft'), dir, journal);
    expect(first).toEqual({ changed: true, jails: ['tsfw-ssh'], warnings: [] });
    const files = ourFiles(dir);
    expect(readFileSync(files.jail, 'utf8')).toContain('[tsfw-ssh]');
    expect(readFileSync(files.action('tsfirewall-ipset'), 'utf8')).toContain('actionban = <ipset> -exist add');
    expect(readFileSync(files.action('tsfirewall-chain'), 'utf8')).toContain('-I fail2ban-<name> 1 -s <ip> -j DROP');
    expect(writeFail2banConfig(config(), SEED_HOST, iptablesBackend('nft'), dir, journal).changed).toBe(false);
  });

  test('FAIL2BAN=no removes our files (and only ours)', () => {
    const dir = scratch();
    writeFail2banConfig(config(), SEED_HOST, iptablesBackend('nft'), dir, journal);
    writeIfChanged(join(dir, 'jail.d', 'admin.conf'), '[sshd]\n');
    expect(writeFail2banConfig(config('FAIL2BAN=no'), SEED_HOST, iptablesBackend('nft'), dir, journal).changed).toBe(true);
    expect(readdirSync(join(dir, 'jail.d'))).toEqual(['admin.conf']);
    expect(readdirSync(join(dir, 'action.d'))).toEqual([]);
  });
});
