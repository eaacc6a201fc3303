import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { adminSources, isAdminSource, rememberAdminSource, sessionSource, sshSession } from '../../../src/safety/admin.js';

let base: string;
let dir: string;
beforeEach(() => { base = mkdtempSync(join(tmpdir(), 'tsfw-admin-')); dir = join(base, 'state'); });
afterEach(() => rmSync(base, { recursive: true, force: true }));
const env = (conn?: string) => (conn === undefined ? {} : { SSH_CONNECTION: conn });

test('parses SSH_CONNECTION and normalises IPv4-mapped and zoned addresses', () => {
  expect(sshSession(env('198.51.100.20 50122 192.0.2.10 22'))).toEqual({ client: '198.51.100.20', clientPort: 50122, server: '192.0.2.10', serverPort: 22 });
  expect(sessionSource(env('::ffff:198.51.100.20 50122 ::ffff:192.0.2.10 22'))).toBe('198.51.100.20');
  expect(sessionSource(env('fe80::1%eth0 50122 fe80::2%eth0 22'))).toBe('fe80::1');
});

test('anything but four well-formed fields is no session', () => {
  for (const bad of ['', '198.51.100.20', '198.51.100.20 1 192.0.2.10', 'x 1 192.0.2.10 22', '198.51.100.20 1 192.0.2.10 99999',
    '198.51.100.20 1 192.0.2.10 22; reboot', '$(reboot) 1 192.0.2.10 22']) {
    expect(sshSession(env(bad)), bad).toBeUndefined();
  }
  expect(sshSession({})).toBeUndefined();
});

test('remembers recent admin addresses, newest first, bounded to 8 and 30 days', () => {
  const day = 24 * 3600 * 1000;
  const t0 = 1_800_000_000_000;
  for (let i = 1; i <= 10; i++) rememberAdminSource(env(`198.51.100.${i} 5 192.0.2.10 22`), dir, t0 + i);
  const all = adminSources({}, dir, t0 + 20);
  expect(all).toHaveLength(8);
  expect(all[0]).toBe('198.51.100.10');
  expect(all).not.toContain('198.51.100.1');
  expect(adminSources({}, dir, t0 + 31 * day)).toEqual([]);
  expect(adminSources(env('203.0.113.9 5 192.0.2.10 22'), dir, t0 + 20)[0]).toBe('203.0.113.9');
});

test('isAdminSource matches any spelling of the current or a remembered address', () => {
  rememberAdminSource(env('198.51.100.20 5 192.0.2.10 22'), dir);
  expect(isAdminSource('::ffff:198.51.100.20', {}, dir)).toBe(true);
  expect(isAdminSource('198.51.100.21', {}, dir)).toBe(false);
  expect(isAdminSource('203.0.113.9', env('203.0.113.9 5 192.0.2.10 22'), dir)).toBe(true);
  expect(isAdminSource('not an ip', {}, dir)).toBe(false);
});

test('a corrupt or tampered file is ignored, not trusted', () => {
  rememberAdminSource(env('198.51.100.20 5 192.0.2.10 22'), dir);
  writeFileSync(join(dir, 'admin-sources.json'), '[{"ip":"0.0.0.0/0","lastSeen":9e15},{"ip":"198.51.100.20 ; x","lastSeen":9e15}]');
  expect(adminSources({}, dir)).toEqual([]);
  writeFileSync(join(dir, 'admin-sources.json'), 'not json');
  expect(adminSources({}, dir)).toEqual([]);
});
