import { describe, expect, test } from 'vitest';
import { chooseLogSource, type LogProbe } from '../../../src/bans/logsource.js';
import type { JailConfig } from '../../../src/config/types.js';

const jail = (over: Partial<JailConfig> = {}): JailConfig => ({ filter: 'sshd', maxretry: 5, findtime: 600, bantime: 600, logpath: '', ...over });
const probe = (journalUnusable?: string, filters: Record<string, boolean> = { sshd: true, vsftpd: false }): LogProbe =>
  ({ journalUnusable, hasJournalmatch: (f) => filters[f] });

describe('where a jail reads its log', () => {
  test('the journal, when journald runs, fail2ban can read it and the filter selects the service there', () => {
    expect(chooseLogSource('ssh', jail(), probe())).toEqual({ source: { kind: 'journal' }, warnings: [] });
  });

  test('an explicit JAIL_LOGPATH always wins', () => {
    expect(chooseLogSource('ssh', jail({ logpath: '/var/log/secure' }), probe()).source).toEqual({ kind: 'file', path: '/var/log/secure' });
  });

  test('without python3-systemd: fail2ban\'s own path variable for the distro\'s file, and a warning saying why', () => {
    const r = chooseLogSource('ssh', jail(), probe('fail2ban cannot read the journal without python3-systemd (install it)'));
    expect(r.source).toEqual({ kind: 'file', path: '%(sshd_log)s' });
    expect(r.warnings[0]).toMatch(/python3-systemd/);
  });

  test('a filter with no journalmatch reads its file, quietly', () => {
    expect(chooseLogSource('ftp', jail({ filter: 'vsftpd' }), probe())).toEqual({ source: { kind: 'file', path: '%(vsftpd_log)s' }, warnings: [] });
  });

  test('a filter fail2ban does not have, or a log nobody knows, means no jail and a message naming the key', () => {
    expect(chooseLogSource('ssh', jail({ filter: 'nosuch' }), probe())).toEqual({
      warnings: [expect.stringMatching(/no filter "nosuch".*SERVICE_SSH_JAIL_FILTER/)],
    });
    const odd = chooseLogSource('app', jail({ filter: 'odd' }), probe(undefined, { odd: false }));
    expect(odd.source).toBeUndefined();
    expect(odd.warnings[0]).toMatch(/SERVICE_APP_JAIL_LOGPATH/);
  });
});
