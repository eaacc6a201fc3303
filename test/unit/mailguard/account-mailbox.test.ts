import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { accountName } from '../../../src/config/values.js';
import { parseConfig } from '../../../src/config/load.js';
import { adduserArgv, parsePasswdEntry, pickNoLoginShell, unfitReason, useraddArgv } from '../../../src/mailguard/account.js';
import { formatBytes, mailboxCandidates, measureMailbox } from '../../../src/mailguard/mailbox.js';

describe('account name (MAILGUARD_ACCOUNT)', () => {
  test('defaults to the seed\'s notausers and accepts ordinary names', () => {
    expect(parseConfig('').config.mailguardAccount).toBe('notausers');
    expect(parseConfig('MAILGUARD_ACCOUNT=spam-bin').config.mailguardAccount).toBe('spam-bin');
    expect(accountName('_hole')).toBe('_hole');
  });

  test.each(['', 'Root', '1abc', '-x', 'a b', 'a;b', '../etc', 'x'.repeat(33), 'user@host', 'root', 'postmaster', 'postfix'])(
    'refuses %j', (name) => expect(() => accountName(name)).toThrow(),
  );

  test('a bad name is a config error naming the key', () => {
    expect(() => parseConfig('MAILGUARD_ACCOUNT=root')).toThrow(/MAILGUARD_ACCOUNT: "root" already receives real mail/);
  });
});

describe('the black-hole account', () => {
  test('passwd entries parse; malformed ones do not', () => {
    expect(parsePasswdEntry('notausers:x:998:998:bin:/nonexistent:/usr/sbin/nologin\n'))
      .toEqual({ name: 'notausers', uid: 998, gid: 998, home: '/nonexistent', shell: '/usr/sbin/nologin' });
    expect(parsePasswdEntry('broken:x:abc')).toBeUndefined();
  });

  test('an existing account is only used when nobody can log in to it', () => {
    const base = { name: 'n', uid: 998, gid: 998, home: '/nonexistent' };
    expect(unfitReason({ ...base, shell: '/usr/sbin/nologin' })).toBeUndefined();
    expect(unfitReason({ ...base, shell: '/bin/false' })).toBeUndefined();
    expect(unfitReason({ ...base, shell: '/bin/bash' })).toMatch(/login shell/);
    expect(unfitReason({ ...base, shell: '' })).toMatch(/login shell/);
    expect(unfitReason({ ...base, uid: 0, shell: '/usr/sbin/nologin' })).toMatch(/uid 0/);
  });

  test('is created as a system account with no home and no login shell', () => {
    const argv = useraddArgv('notausers', '/usr/sbin/nologin');
    expect(argv.at(-1)).toBe('notausers');
    expect(argv.join(' ')).not.toMatch(/[:,]/); // GECOS cannot hold a colon; useradd refuses it
    expect(argv).toEqual(expect.arrayContaining(['--system', '--no-create-home', '/nonexistent', '/usr/sbin/nologin']));
    expect(adduserArgv('notausers', '/bin/false')).toEqual(expect.arrayContaining(['--system', '--no-create-home', '/bin/false']));
    expect(pickNoLoginShell((p) => p === '/sbin/nologin')).toBe('/sbin/nologin');
    expect(pickNoLoginShell(() => false)).toBe('/bin/false');
  });
});

describe('mailbox size', () => {
  let root = '';
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'tsfw-spool-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('candidates: Postfix spool first, then the usual places, no duplicates', () => {
    expect(mailboxCandidates('notausers', '/var/mail')).toEqual(['/var/mail/notausers', '/var/spool/mail/notausers']);
    expect(mailboxCandidates('n', '/srv/spool/')).toEqual(['/srv/spool/n', '/var/mail/n', '/var/spool/mail/n']);
  });

  test('measures an mbox file, and a Maildir by its message files', () => {
    writeFileSync(join(root, 'mbox'), 'x'.repeat(8387));
    expect(measureMailbox([join(root, 'absent'), join(root, 'mbox')])).toEqual({ path: join(root, 'mbox'), format: 'mbox', bytes: 8387 });
    for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(root, 'md', sub), { recursive: true });
    writeFileSync(join(root, 'md', 'new', '1'), 'abc');
    writeFileSync(join(root, 'md', 'cur', '2'), 'de');
    writeFileSync(join(root, 'md', 'tmp', '3'), 'f');
    expect(measureMailbox([join(root, 'md')])).toEqual({ path: join(root, 'md'), format: 'maildir', bytes: 6, messages: 2 });
  });

  test('does not follow a symlinked mailbox, and reports none when nothing exists', () => {
    writeFileSync(join(root, 'elsewhere'), 'secret');
    symlinkSync(join(root, 'elsewhere'), join(root, 'link'));
    expect(measureMailbox([join(root, 'link')])).toBeUndefined();
  });

  test('sizes read as humans expect', () => {
    expect(formatBytes(8387)).toBe('8.2 KiB');
    expect(formatBytes(12)).toBe('12 bytes');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });
});
