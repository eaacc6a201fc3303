import { describe, expect, test } from 'vitest';
import { chainAction, ipsetAction } from '../../../../src/backend/iptables/fail2ban.js';
import { ipsetTime } from '../../../../src/bans/conf.js';
import { sections } from '../../ini.js';

describe('action.d/tsfirewall-ipset.conf', () => {
  const s = sections(ipsetAction({ ipset: '/usr/sbin/ipset', ipv6: true }));

  test('start/stop/check do nothing: tsfirewall owns the sets', () => {
    expect(s.Definition).toMatchObject({ actionstart: '', actionstop: '', actioncheck: '' });
  });

  test('ban adds and unban deletes only our entry, IPv6 going to f2b6-NAME', () => {
    expect(s.Definition!.actionban).toBe('<ipset> -exist add <ipmset> <ip> timeout <ipsettime>');
    expect(s.Definition!.actionunban).toBe('<ipset> -exist del <ipmset> <ip>');
    // A lengthened ban (bantime.increment) re-adds the entry: -exist renews its timeout.
    expect(s.Definition!.actionprolong).toBe('%(actionban)s');
    expect(s.Init).toEqual({ ipset: '/usr/sbin/ipset', ipsettime: '0', ipmset: 'f2b-<name>' });
    expect(s['Init?family=inet6']).toEqual({ ipmset: 'f2b6-<name>' });
  });

  test('stopping fail2ban does not flush the set (entries expire by their own timeout)', () => {
    expect(s.Definition!.actionflush).toBe('true');
  });

  test('without IPV6=mirror there is no IPv6 set and IPv6 bans are no-ops', () => {
    expect(sections(ipsetAction({ ipset: 'ipset', ipv6: false }))['Init?family=inet6']).toEqual({ ipmset: 'f2b6-<name>', ipset: 'true' });
  });

  test('ban times beyond ipset\'s limit become permanent entries that fail2ban lifts itself', () => {
    expect(ipsetTime(600)).toBe(600);
    expect(ipsetTime(31_536_000)).toBe(0);
  });
});

describe('action.d/tsfirewall-chain.conf', () => {
  test('the seed\'s actionban/actionunban, with the backend\'s own iptables per family', () => {
    const s = sections(chainAction({ iptables: '/usr/sbin/iptables-legacy', ip6tables: '/usr/sbin/ip6tables-legacy' }));
    expect(s.Definition).toEqual({
      actionstart: '', actionstop: '', actioncheck: '',
      actionban: '<iptables> -w -I fail2ban-<name> 1 -s <ip> -j DROP',
      actionunban: '<iptables> -w -D fail2ban-<name> -s <ip> -j DROP',
    });
    expect(s.Init).toEqual({ iptables: '/usr/sbin/iptables-legacy' });
    expect(s['Init?family=inet6']).toEqual({ iptables: '/usr/sbin/ip6tables-legacy' });
  });

  test('without an IPv6 chain the IPv6 command is a no-op', () => {
    expect(sections(chainAction({ iptables: 'iptables' }))['Init?family=inet6']).toEqual({ iptables: 'true' });
  });
});
