import { describe, expect, test } from 'vitest';
import { findJail, jailsOf } from '../../../../src/bans/jails.js';
import { chainAddresses, parseSetMembers } from '../../../../src/backend/iptables/bans.js';
import { duration } from '../../../../src/status/format.js';
import { config } from '../../fixtures.js';

describe('reading bans back from the kernel', () => {
  test('chain entries from iptables -S, host masks stripped, other rules ignored', () => {
    const saved = [
      '-N fail2ban-SSH',
      '-A fail2ban-SSH -s 198.51.100.7/32 -j DROP',
      '-A fail2ban-SSH -s 2001:db8::5/128 -j DROP',
      '-A fail2ban-SSH -s 198.51.100.0/24 -j DROP',
      '-A fail2ban-SSHD -s 198.51.100.9/32 -j DROP',
      '-A fail2ban-SSH -s 198.51.100.8/32 -j RETURN',
    ].join('\n');
    expect(chainAddresses(saved, 'fail2ban-SSH')).toEqual(['198.51.100.7', '2001:db8::5', '198.51.100.0/24']);
  });
});

describe('jails from the config', () => {
  test('ssh by default; sets per family only with IPV6=mirror', () => {
    expect(jailsOf(config()).map((j) => [j.jail, j.banName, j.mode, j.targets])).toEqual([
      ['tsfw-ssh', 'SSH', 'ipset', { ipv4: 'f2b-SSH' }],
    ]);
    expect(jailsOf(config('IPV6=mirror'))[0]!.targets).toEqual({ ipv4: 'f2b-SSH', ipv6: 'f2b6-SSH' });
    expect(jailsOf(config('IPV6=mirror', 'chain'))[0]!.targets).toEqual({ ipv4: 'fail2ban-SSH', ipv6: 'fail2ban-SSH' });
  });

  test('--jail takes the jail, service or ban name in any case', () => {
    const jails = jailsOf(config());
    for (const name of ['tsfw-ssh', 'ssh', 'SSH', 'Tsfw-SSH']) expect(findJail(jails, name)?.jail).toBe('tsfw-ssh');
    expect(findJail(jails, 'ftp')).toBeUndefined();
  });
});

describe('ban set members with their time left', () => {
  test('"IP timeout N" entries keep N; timeout 0 and entries without a timeout last until unban', () => {
    const listing = [
      'Name: f2b-SSH', 'Type: hash:ip', 'Revision: 6',
      'Header: family inet hashsize 1024 maxelem 262144 timeout 0 bucketsize 12 initval 0x1',
      'Size in memory: 408', 'References: 1', 'Number of entries: 3', 'Members:',
      '198.51.100.7 timeout 587', '198.51.100.8 timeout 0', '2001:db8::5', '',
    ].join('\n');
    expect(parseSetMembers(listing)).toEqual([{ ip: '198.51.100.7', expiresIn: 587 }, { ip: '198.51.100.8' }, { ip: '2001:db8::5' }]);
    expect(parseSetMembers(listing.replace(/Members:\n[\s\S]*$/, 'Members:\n'))).toEqual([]);
  });

  test('the time left reads as an admin would say it', () => {
    expect([587, 3600, 90_061, 0].map(duration)).toEqual(['9m47s', '1h', '1d1h1m1s', '0s']);
  });
});
