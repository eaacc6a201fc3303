import { describe, expect, test } from 'vitest';
import { chainAction, ignoreList, ipsetAction, ipsetTime, jailFile, type LogSource } from '../../../src/bans/conf.js';
import { jailsOf } from '../../../src/bans/jails.js';
import { SEED_HOST, config } from '../fixtures.js';

const journal = (names: string[]) => new Map<string, LogSource>(names.map((n) => [n, { kind: 'journal' }]));

/** The [section] blocks of an ini text, as {name: {key: value}}. */
function sections(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    const head = /^\[(.+)\]$/.exec(line);
    if (head) { current = out[head[1]!] = {}; continue; }
    const kv = /^(\S+)\s*=\s*(.*)$/.exec(line);
    if (kv && current && !line.startsWith('#')) current[kv[1]!] = kv[2]!;
  }
  return out;
}

describe('jail.d/tsfirewall.conf', () => {
  const cfg = config('TRUSTED_NETS=203.0.113.7/32 198.51.100.0/24\nSERVICE_SSH_JAIL_MAXRETRY=3\nSERVICE_SSH_JAIL_BANTIME=900');
  const jails = jailsOf(cfg);

  test('one tsfw- jail per service with bans, with the seed\'s settings and our action', () => {
    const s = sections(jailFile({ jails, ignoreip: ignoreList(cfg, SEED_HOST), logSources: journal(['tsfw-ssh']) }));
    expect(s['tsfw-ssh']).toEqual({
      enabled: 'true', filter: 'sshd', port: '22', maxretry: '3', findtime: '600', bantime: '900',
      ignoreip: '127.0.0.1/8 ::1 192.0.2.10 2001:db8::10 192.0.2.0/24 203.0.113.7/32 198.51.100.0/24',
      backend: 'systemd', action: 'tsfirewall-ipset[name=SSH, ipsettime=900]',
    });
  });

  test('the stock jail for the same filter is disabled, so no second ban path and no wait for /var/log/auth.log', () => {
    const s = sections(jailFile({ jails, ignoreip: [], logSources: journal(['tsfw-ssh']) }));
    expect(s.sshd).toEqual({ enabled: 'false' });
    expect(Object.keys(s)).toEqual(['sshd', 'tsfw-ssh']);
  });

  test('a log file source gets backend auto and the logpath; chain mode names the chain action', () => {
    const chain = jailsOf(config('', 'chain'));
    const s = sections(jailFile({ jails: chain, ignoreip: [], logSources: new Map([['tsfw-ssh', { kind: 'file', path: '%(sshd_log)s' }]]) }));
    expect(s['tsfw-ssh']).toMatchObject({ backend: 'auto', logpath: '%(sshd_log)s', action: 'tsfirewall-chain[name=SSH]' });
  });

  test('a jail without a log source is left out (fail2ban would refuse to start with it)', () => {
    const two = jailsOf(config('SERVICES=ssh smtp\nSERVICE_SMTP_BANS=yes'));
    const s = sections(jailFile({ jails: two, ignoreip: [], logSources: journal(['tsfw-smtp']) }));
    expect(Object.keys(s)).toEqual(['postfix', 'tsfw-smtp']);
  });

  test('ignoreip has the local subnet only when it is trusted', () => {
    const untrusted = ignoreList(config('TRUST_LOCAL_SUBNET=no'), SEED_HOST);
    expect(untrusted).toEqual(['127.0.0.1/8', '::1', '192.0.2.10', '2001:db8::10']);
  });

  test('ban names from BAN_NAME reach the action parameter', () => {
    const s = sections(jailFile({ jails: jailsOf(config('SERVICE_SSH_BAN_NAME=SSHD')), ignoreip: [], logSources: journal(['tsfw-ssh']) }));
    expect(s['tsfw-ssh']!.action).toBe('tsfirewall-ipset[name=SSHD, ipsettime=600]');
  });
});

describe('repeat offenders (SERVICE_<NAME>_JAIL_BANTIME_MAX)', () => {
  const text = (mode: 'ipset' | 'chain') => sections(jailFile({
    jails: jailsOf(config('SERVICE_SSH_JAIL_BANTIME=300\nSERVICE_SSH_JAIL_BANTIME_MAX=86400', mode)), ignoreip: [], logSources: journal(['tsfw-ssh']),
  }))['tsfw-ssh']!;

  test('turn on fail2ban\'s bantime.increment with the maximum, the first ban lasting BANTIME', () => {
    expect(text('ipset')).toMatchObject({ bantime: '300', 'bantime.increment': 'true', 'bantime.maxtime': '86400' });
    expect(text('chain')).toMatchObject({ 'bantime.increment': 'true', 'bantime.maxtime': '86400' });
  });

  test('in ipset mode each set entry expires with its own ban, however long fail2ban made it', () => {
    expect(text('ipset').action).toBe('tsfirewall-ipset[name=SSH, ipsettime=<bantime>]');
    expect(text('chain').action).toBe('tsfirewall-chain[name=SSH]');
  });

  test('without it nothing escalates', () => {
    const plain = sections(jailFile({ jails: jailsOf(config()), ignoreip: [], logSources: journal(['tsfw-ssh']) }))['tsfw-ssh']!;
    expect(Object.keys(plain).filter((k) => k.startsWith('bantime.'))).toEqual([]);
  });
});

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
