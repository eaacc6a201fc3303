/**
 * explain's pure parts: the packet options (each refusal names its option), the packet completed from the host's
 * addresses, the hook it takes, the ban behind a verdict, and the answer's two forms.
 */
import { describe, expect, test } from 'vitest';
import type { WalkRule } from '../../../src/backend/types.js';
import { UsageError } from '../../../src/errors.js';
import { broadcastOf, completeProbe, hookOf, parseProbe, type HostSide } from '../../../src/explain/probe.js';
import { answerOf, banOf, formatAnswer } from '../../../src/explain/report.js';
import { evaluate } from '../../../src/safety/evaluate.js';

describe('the packet options', () => {
  test('a full packet, and the defaults: state new, no port for ICMP', () => {
    expect(parseProbe({ src: '198.51.100.20', dst: '192.0.2.10', proto: 'TCP', dport: '22', iface: 'eth0', state: 'established' }))
      .toEqual({ src: '198.51.100.20', dst: '192.0.2.10', proto: 'tcp', dport: 22, iface: 'eth0', state: 'ESTABLISHED' });
    expect(parseProbe({ src: '2001:DB8::5', proto: 'icmp' })).toEqual({ src: '2001:db8::5', proto: 'icmp', state: 'NEW' });
  });

  test.each([
    [{}, /explain needs --src IP/],
    [{ src: '1.2.3', proto: 'tcp', dport: '22' }, /--src expects an IPv4 or IPv6 address, got "1\.2\.3"/],
    [{ src: '010.1.1.1', proto: 'tcp', dport: '22' }, /--src expects/],
    [{ src: '192.0.2.1', dst: 'host', proto: 'tcp', dport: '22' }, /--dst expects an IPv4 or IPv6 address, got "host"/],
    [{ src: '192.0.2.1', dst: '2001:db8::1', proto: 'tcp', dport: '22' }, /--dst 2001:db8::1 is IPv6 but --src 192\.0\.2\.1 is IPv4/],
    [{ src: '192.0.2.1' }, /explain needs --proto tcp\|udp\|icmp/],
    [{ src: '192.0.2.1', proto: 'sctp' }, /--proto expects tcp, udp or icmp, got "sctp"/],
    [{ src: '192.0.2.1', proto: 'udp' }, /--proto udp needs --dport N/],
    [{ src: '192.0.2.1', proto: 'tcp', dport: '0' }, /--dport expects a port number from 1 to 65535, got "0"/],
    [{ src: '192.0.2.1', proto: 'tcp', dport: '22x' }, /--dport expects/],
    [{ src: '192.0.2.1', proto: 'icmp', dport: '22' }, /--dport goes with --proto tcp or udp, not icmp/],
    [{ src: '192.0.2.1', proto: 'tcp', dport: '22', iface: 'a b' }, /--iface expects an interface name, got "a b"/],
    [{ src: '192.0.2.1', proto: 'tcp', dport: '22', state: 'related' }, /--state expects new or established, got "related"/],
  ])('%j', (options, message) => {
    expect(() => parseProbe(options)).toThrow(UsageError);
    expect(() => parseProbe(options)).toThrow(message);
  });
});

describe('the packet as the kernel sees it', () => {
  const host: HostSide = { local: ['127.0.0.1', '192.0.2.10', '::1'], broadcasts: ['192.0.2.255'], myip: { ipv4: '192.0.2.10' } };

  test('to MYIP unless --dst says otherwise; from one of our own addresses it comes in on lo', () => {
    expect(completeProbe({ src: '198.51.100.20', proto: 'icmp', state: 'NEW' }, host)).toEqual({ src: '198.51.100.20', dst: '192.0.2.10', proto: 'icmp', state: 'NEW' });
    expect(completeProbe({ src: '192.0.2.10', proto: 'icmp', state: 'NEW' }, host)).toMatchObject({ iface: 'lo' });
    expect(completeProbe({ src: '192.0.2.10', proto: 'icmp', iface: 'eth0', state: 'NEW' }, host)).toMatchObject({ iface: 'eth0' });
    expect(completeProbe({ src: '2001:db8::5', proto: 'icmp', state: 'NEW' }, host).dst).toBeUndefined();
  });

  test('input for this host, its broadcasts and multicast; forward for anyone else', () => {
    const to = (dst?: string) => hookOf({ src: '198.51.100.20', ...(dst ? { dst } : {}), proto: 'icmp', state: 'NEW' }, host);
    expect([to(), to('192.0.2.10'), to('192.0.2.255'), to('224.0.0.1'), to('ff02::1'), to('255.255.255.255')]).toEqual(Array(6).fill('input'));
    expect([to('192.0.2.77'), to('203.0.113.5')]).toEqual(['forward', 'forward']);
    expect([broadcastOf('192.0.2.10/24'), broadcastOf('10.1.2.3/8'), broadcastOf('192.0.2.10/32'), broadcastOf('2001:db8::1/64')])
      .toEqual(['192.0.2.255', '10.255.255.255', '192.0.2.10', undefined]);
  });
});

describe('the answer', () => {
  const rule = (r: Partial<WalkRule>): WalkRule => ({ chain: 'input4', match: {}, target: { kind: 'DROP' }, text: 'r', ...r });
  const jails = [{ jail: 'tsfw-ssh', names: ['f2b-SSH', 'fail2ban-SSH'] }];
  const probe = { src: '198.51.100.66', dst: '192.0.2.10', proto: 'tcp' as const, dport: 22, state: 'NEW' as const };
  const sets = new Map([['f2b-SSH', [{ ip: '198.51.100.66', expiresIn: 125 }]]]);

  test('a ban behind a drop: the jail, where it lives, the time left (a chain\'s from the ledger)', () => {
    expect(banOf(rule({ match: { srcSet: 'f2b-SSH' } }), probe, jails, { sets })).toEqual({ jail: 'tsfw-ssh', in: 'set f2b-SSH', expiresIn: 125 });
    expect(banOf(rule({ chain: 'fail2ban-SSH' }), probe, jails, {}, () => 60)).toEqual({ jail: 'tsfw-ssh', in: 'chain fail2ban-SSH', expiresIn: 60 });
    expect(banOf(rule({ chain: 'fail2ban-SSH' }), probe, jails, {})).toEqual({ jail: 'tsfw-ssh', in: 'chain fail2ban-SSH' });
    expect(banOf(rule({ match: { srcSet: 'f2b-OLD' } }), probe, [], {})).toEqual({ in: 'set f2b-OLD' });
    expect(banOf(rule({ match: { srcSet: 'rlheld-SSH' } }), probe, jails, {})).toBeNull();
    expect(banOf(rule({ target: { kind: 'ACCEPT' }, match: { srcSet: 'f2b-SSH' } }), probe, jails, { sets })).toBeNull();
    expect(banOf(undefined, probe, jails, { sets })).toBeNull();
  });

  test('JSON carries verdict, rule, chain and the path; the text says the same for people', () => {
    const ban = rule({ match: { proto: 'tcp', dports: ['22'], srcSet: 'f2b-SSH' }, group: 'bans', text: 'tcp dport 22 ip saddr @f2b-SSH counter drop comment "tsfw:bans"' });
    const v = evaluate({ chains: [{ name: 'input', policy: 'ACCEPT' }, { name: 'input4' }], rules: [
      rule({ chain: 'input', target: { kind: 'jump', chain: 'input4' }, text: 'meta nfproto vmap { ipv4 : jump input4 }' }), ban,
    ] }, ['input'], 'input', probe, { facts: { sets } });
    const a = answerOf(v, probe, 'input', 'nftables', banOf(v.rule, probe, jails, { sets }));
    expect(a).toMatchObject({ verdict: 'drop', rule: ban.text, chain: 'input4', group: 'bans', certain: true,
      ban: { jail: 'tsfw-ssh', in: 'set f2b-SSH', expiresIn: 125 }, packet: { family: 'ipv4', hook: 'input' } });
    expect(a.path.map((s) => s.outcome)).toEqual(['matched', 'matched']);
    const text = formatAnswer(a);
    expect(text).toMatch(/^DROP: 198\.51\.100\.66 -> 192\.0\.2\.10 tcp port 22 \(new\), input hook \(nftables\)\n/);
    expect(text).toContain(`decided by: ${ban.text}\n  in chain input4, group bans (blockers (bans))`);
    expect(text).toContain('banned: jail tsfw-ssh (set f2b-SSH), 2m5s left');
    expect(text).toContain('198.51.100.66 is in set f2b-SSH, 2m5s left');
  });

  test('a policy decides: the rule is the policy', () => {
    const v = evaluate({ chains: [{ name: 'INPUT', policy: 'DROP' }], rules: [] }, ['INPUT'], 'input', probe);
    expect(answerOf(v, probe, 'input', 'iptables-nft', null)).toMatchObject({ verdict: 'drop', rule: 'policy DROP', chain: 'INPUT', group: null });
  });
});

test('a chain-mode ban entry is the ban list\'s, not a foreign rule', () => {
  const probe = { src: '198.51.100.66', dst: '192.0.2.10', proto: 'tcp' as const, dport: 22, state: 'NEW' as const };
  const entry: WalkRule = { chain: 'fail2ban-SSH', match: { src: { cidr: '198.51.100.66/32' } }, target: { kind: 'DROP' }, text: '-A fail2ban-SSH -s 198.51.100.66/32 -j DROP' };
  const v = evaluate({ chains: [{ name: 'fail2ban-SSH' }], rules: [entry] }, ['fail2ban-SSH'], 'input', probe);
  const text = formatAnswer(answerOf(v, probe, 'input', 'iptables-legacy', banOf(v.rule, probe, [{ jail: 'tsfw-ssh', names: ['fail2ban-SSH'] }], {})));
  expect(text).toContain('in chain fail2ban-SSH, an entry of the ban list\nbanned: jail tsfw-ssh (chain fail2ban-SSH), until unbanned');
});
