import { existsSync } from 'node:fs';
import { describe, expect, test, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { formatStatus } from '../../../src/mailguard/format.js';
import type { GuardStatus } from '../../../src/mailguard/guard.js';

const ON: GuardStatus = {
  enabled: true,
  managed: true,
  account: 'notausers',
  accountExists: true,
  settings: { luser_relay: { set: true, value: 'notausers' }, local_recipient_maps: { set: true, value: '' } },
  mailbox: { path: '/var/mail/notausers', format: 'mbox', bytes: 8387 },
  previous: { luser_relay: { set: false }, local_recipient_maps: { set: false } },
};

describe('mailguard command line', () => {
  test('bad actions are usage errors (exit 2)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['mailguard'])).toBe(2);
      expect(await main(['mailguard', 'frobnicate'])).toBe(2);
      expect(await main(['mailguard', 'enable', 'extra'])).toBe(2);
      expect(String(err.mock.calls[1]?.[0])).toMatch(/unknown mailguard action "frobnicate"/);
    } finally {
      err.mockRestore();
    }
  });

  test.skipIf(['/usr/sbin/postconf', '/sbin/postconf', '/usr/bin/postconf'].some(existsSync))(
    'without Postfix every action exits 5 (not installed) and changes nothing', async () => {
      const path = process.env.PATH;
      process.env.PATH = '/nonexistent-dir';
      try {
        for (const action of ['enable', 'disable', 'status']) expect(await main(['mailguard', action])).toBe(5);
      } finally {
        process.env.PATH = path;
      }
    });

  test('status text says on/off, the account, the values, the mailbox size and what disable restores', () => {
    const text = formatStatus(ON);
    expect(text).toMatch(/^mailguard: on\n/);
    expect(text).toContain('luser_relay = notausers; local_recipient_maps = (empty)');
    expect(text).toContain('/var/mail/notausers (mbox), 8.2 KiB');
    expect(text).toContain('disable restores: luser_relay (unset: Postfix default); local_recipient_maps (unset: Postfix default)');
    const drifted = formatStatus({ ...ON, enabled: false, mailbox: null });
    expect(drifted).toMatch(/^mailguard: off \(enabled, but main.cf was changed since/);
    expect(drifted).toContain('mailbox:  none yet');
  });
});
