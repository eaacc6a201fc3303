import { describe, expect, test } from 'vitest';
import { iptablesActions } from '../../../src/backend/iptables/fail2ban.js';
import { ignoreList, ipsetTime, jailFile, type LogSource } from '../../../src/bans/conf.js';
import { jailsOf } from '../../../src/bans/jails.js';
import { SEED_HOST, config } from '../fixtures.js';
import { sections } from '../ini.js';

const { action } = iptablesActions({ ipset: 'ipset', iptables: 'iptables', ip6tables: 'ip6tables', ipv6: false });

const journal = (names: string[]) => new Map<string, LogSource>(names.map((n) => [n, { kind: 'journal' }]));

describe('jail.d/tsfirewall.conf', () => {
  const cfg = config('TRUSTED_NETS=203.0.113.7/32 198.51.100.0/24\nSERVICE_SSH_JAIL_MAXRETRY=3\nSERVICE_SSH_JAIL_BANTIME=900');
  const jails = jailsOf(cfg);

  test('one tsfw- jail per service with bans, with the seed\'s settings and our action', () => {
    const s = sections(jailFile({ action, jails, ignoreip: ignoreList(cfg, SEED_HOST), logSources: journal(['tsfw-ssh']) }));
    expect(s['tsfw-ssh']).toEqual({
      enabled: 'true', filter: 'sshd', port: '22', maxretry: '3', findtime: '600', bantime: '900',
      ignoreip: '127.0.0.1/8 ::1 192.0.2.10 2001:db8::10 192.0.2.0/24 203.0.113.7/32 198.51.100.0/24',
      backend: 'systemd', action: 'tsfirewall-ipset[name=SSH, ipsettime=900]',
    });
  });

  test('the stock jail for the same filter is disabled, so no second ban path and no wait for /var/log/auth.log', () => {
    const s = sections(jailFile({ action, jails, ignoreip: [], logSources: journal(['tsfw-ssh']) }));
    expect(s.sshd).toEqual({ enabled: 'false' });
    expect(Object.keys(s)).toEqual(['sshd', 'tsfw-ssh']);
  });

  test('a log file source gets backend auto and the logpath; chain mode names the chain action', () => {
    const chain = jailsOf(config('', 'chain'));
    const s = sections(jailFile({ action, jails: chain, ignoreip: [], logSources: new Map([['tsfw-ssh', { kind: 'file', path: '%(sshd_log)s' }]]) }));
    expect(s['tsfw-ssh']).toMatchObject({ backend: 'auto', logpath: '%(sshd_log)s', action: 'tsfirewall-chain[name=SSH]' });
  });

  test('a jail without a log source is left out (fail2ban would refuse to start with it)', () => {
    const two = jailsOf(config('SERVICES=ssh smtp\nSERVICE_SMTP_BANS=yes'));
    const s = sections(jailFile({ action, jails: two, ignoreip: [], logSources: journal(['tsfw-smtp']) }));
    expect(Object.keys(s)).toEqual(['postfix', 'tsfw-smtp']);
  });

  test('ignoreip has the local subnet only when it is trusted', () => {
    const untrusted = ignoreList(config('TRUST_LOCAL_SUBNET=no'), SEED_HOST);
    expect(untrusted).toEqual(['127.0.0.1/8', '::1', '192.0.2.10', '2001:db8::10']);
  });

  test('ban names from BAN_NAME reach the action parameter', () => {
    const s = sections(jailFile({ action, jails: jailsOf(config('SERVICE_SSH_BAN_NAME=SSHD')), ignoreip: [], logSources: journal(['tsfw-ssh']) }));
    expect(s['tsfw-ssh']!.action).toBe('tsfirewall-ipset[name=SSHD, ipsettime=600]');
  });
});

describe('repeat offenders (SERVICE_<NAME>_JAIL_BANTIME_MAX)', () => {
  const text = (mode: 'ipset' | 'chain') => sections(jailFile({
    action, jails: jailsOf(config('SERVICE_SSH_JAIL_BANTIME=300\nSERVICE_SSH_JAIL_BANTIME_MAX=86400', mode)), ignoreip: [], logSources: journal(['tsfw-ssh']),
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
    const plain = sections(jailFile({ action, jails: jailsOf(config()), ignoreip: [], logSources: journal(['tsfw-ssh']) }))['tsfw-ssh']!;
    expect(Object.keys(plain).filter((k) => k.startsWith('bantime.'))).toEqual([]);
  });
});


describe('ban scope and the recidive jail', () => {
  const cfg = config('SERVICES=ssh web\nSERVICE_SSH_BAN_SCOPE=all\nRECIDIVE=yes\nRECIDIVE_MAXRETRY=2\nRECIDIVE_LOGPATH=/var/log/fail2ban.log');
  const jails = jailsOf(cfg);
  const files = new Map<string, LogSource>([['tsfw-recidive', { kind: 'file', path: '/var/log/fail2ban.log' }], ['tsfw-ssh', { kind: 'journal' }]]);
  const s = sections(jailFile({ action, jails, ignoreip: [], logSources: files }));

  test('the recidive jail reads fail2ban\'s own log, skips its own bans, and bans for a week from every port', () => {
    expect(jails.map((j) => [j.jail, j.banName, j.targets.ipv4])).toEqual([['tsfw-recidive', 'RECIDIVE', 'f2b-RECIDIVE'], ['tsfw-ssh', 'SSH', 'f2b-SSH']]);
    expect(s['tsfw-recidive']).toMatchObject({
      filter: 'recidive[_jailname=tsfw-recidive]', port: '0:65535', maxretry: '2', findtime: '86400', bantime: '604800',
      logpath: '/var/log/fail2ban.log', action: 'tsfirewall-ipset[name=RECIDIVE, ipsettime=604800]',
    });
    expect(s.recidive).toEqual({ enabled: 'false' });
  });

  test('BAN_SCOPE=all: fail2ban is told every port', () => {
    expect(s['tsfw-ssh']).toMatchObject({ port: '0:65535' });
  });

  test('a service named recidive beside RECIDIVE=yes is refused', () => {
    expect(() => config('SERVICES=ssh recidive\nSERVICE_RECIDIVE_PORTS=1\nRECIDIVE=yes')).toThrow(/a service named recidive/);
  });
});
