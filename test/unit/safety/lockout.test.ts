import { describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import type { Ruleset } from '../../../src/model.js';
import { evaluateInput } from '../../../src/safety/evaluate.js';
import { bannedBy } from '../../../src/backend/iptables/ban-store.js';
import { checkSession } from '../../../src/safety/lockout.js';
import { config, SEED_HOST } from '../fixtures.js';

const plan = (text: string, banMode: 'ipset' | 'chain' = 'ipset') => compile(config(text, banMode), SEED_HOST);
const v4 = (text: string, banMode: 'ipset' | 'chain' = 'ipset') => plan(text, banMode).rulesets.find((r) => r.family === 'ipv4')!;
const session = (client: string, server = '192.0.2.10', port = 22) => ({ client, clientPort: 50000, server, serverPort: port });
const probe = (src: string, dport = 22, state: 'NEW' | 'ESTABLISHED' = 'NEW') =>
  ({ src, dst: '192.0.2.10', proto: 'tcp' as const, dport, state });

describe('evaluateInput on the compiled model', () => {
  test('the seed default lets a new SSH connection from the world in, past a ban lookup and the hit-rate limit', () => {
    const v = evaluateInput(v4(''), probe('198.51.100.20'));
    expect(v.action).toBe('ACCEPT');
    expect(v.rule?.group).toBe('services');
    expect(v.conditional.map((r) => r.group)).toEqual(['bans', 'services']);
  });

  test('telnet from the world falls through to the DROP policy; the local subnet is a friend', () => {
    const telnet = evaluateInput(v4(''), probe('198.51.100.20', 23));
    expect(telnet.action).toBe('DROP');
    expect(telnet.rule).toBeUndefined();
    expect(evaluateInput(v4(''), probe('192.0.2.77', 23))).toMatchObject({ action: 'ACCEPT', rule: { group: 'friends' } });
  });

  test('a spoofed source (our own address) and traffic for another address are dropped by their rules', () => {
    expect(evaluateInput(v4(''), probe('192.0.2.10')).rule?.group).toBe('antispoof');
    const other = evaluateInput(v4('TRUST_LOCAL_SUBNET=no'), { ...probe('198.51.100.20'), dst: '192.0.2.99' });
    expect(other).toMatchObject({ action: 'DROP', rule: { group: 'unicast' } });
  });

  test('an open session survives where a new one would not: ESTABLISHED is accepted before the services', () => {
    const rs = v4('SERVICES=web');
    expect(evaluateInput(rs, probe('198.51.100.20', 22, 'NEW')).action).toBe('DROP');
    expect(evaluateInput(rs, probe('198.51.100.20', 22, 'ESTABLISHED'))).toMatchObject({ action: 'ACCEPT', rule: { group: 'replies' } });
  });

  test('per-service source regions: SMTP only from one subnet', () => {
    const rs = v4('SERVICES=ssh smtp\nSERVICE_SMTP_FROM=203.0.113.0/24\nTRUST_LOCAL_SUBNET=no');
    expect(evaluateInput(rs, probe('203.0.113.5', 25)).action).toBe('ACCEPT');
    expect(evaluateInput(rs, probe('198.51.100.5', 25)).action).toBe('DROP');
  });

  test('chain-mode bans: the jump is conditional and the empty chain returns', () => {
    const v = evaluateInput(v4('', 'chain'), probe('198.51.100.20'));
    expect(v.action).toBe('ACCEPT');
    expect(v.conditional.some((r) => r.target.kind === 'jump')).toBe(true);
  });

  test('a ruleset without a filter table (unmanaged family) accepts; IPv6 drop-all drops', () => {
    expect(evaluateInput({ family: 'ipv4', tables: [] }, probe('198.51.100.20')).action).toBe('ACCEPT');
    const v6 = plan('').rulesets.find((r) => r.family === 'ipv6')!;
    expect(evaluateInput(v6, { src: '2001:db8:1::5', dst: '2001:db8::10', proto: 'tcp', dport: 22, state: 'NEW' }).action).toBe('DROP');
  });

  test('loopback rules match only loopback sources; an unknown other interface is not trusted', () => {
    expect(evaluateInput(v4(''), { src: '127.0.0.1', dst: '127.0.0.1', proto: 'tcp', dport: 9, state: 'NEW' }).rule?.group).toBe('loopback');
    const rs: Ruleset = {
      family: 'ipv4',
      tables: [{ name: 'filter', chains: [{ name: 'INPUT', policy: 'DROP' }],
        rules: [{ chain: 'INPUT', group: 'friends', match: { inIface: 'eth1' }, target: { kind: 'ACCEPT' } }] }],
    };
    expect(evaluateInput(rs, probe('198.51.100.20')).action).toBe('DROP');
  });
});

describe('checkSession (the lock-out guard, pure part)', () => {
  test('the seed default keeps an SSH admin from the world, with a hit-rate caution and a ban lookup to check live', () => {
    const c = checkSession(plan(''), session('198.51.100.20'));
    expect(c.refusals).toEqual([]);
    expect(c.cautions).toEqual(['the hit-rate limit "-p tcp -m tcp --dport 22 -m recent --update --seconds 180 --hitcount 3 --name SSH --rsource -j DROP" ' +
      'applies to your address too: more than 3 new connections in 180 s from 198.51.100.20 are dropped']);
    expect(c.banRules.map((r) => r.match.srcSet)).toEqual(['f2b-SSH']);
  });

  test('dropping SSH from SERVICES refuses, naming the policy', () => {
    const c = checkSession(plan('SERVICES=web\nTRUST_LOCAL_SUBNET=no'), session('198.51.100.20'));
    expect(c.refusals).toHaveLength(1);
    expect(c.refusals[0]).toMatch(/a new SSH connection from 198\.51\.100\.20 to 192\.0\.2\.10 port 22 .*INPUT policy DROP/);
  });

  test('SSH on a non-standard port that the config does not open is refused', () => {
    expect(checkSession(plan(''), session('198.51.100.20', '192.0.2.10', 2222)).refusals).toHaveLength(1);
    expect(checkSession(plan('SERVICE_SSH_PORTS=2222'), session('198.51.100.20', '192.0.2.10', 2222)).refusals).toEqual([]);
  });

  test('an admin from outside the SSH source region is refused; inside it passes', () => {
    const text = 'SERVICE_SSH_FROM=203.0.113.0/24\nTRUST_LOCAL_SUBNET=no';
    expect(checkSession(plan(text), session('198.51.100.20')).refusals).toHaveLength(1);
    expect(checkSession(plan(text), session('203.0.113.9')).refusals).toEqual([]);
  });

  test('a session to a second local address is cut even when open: the not-for-me drop precedes the replies accept', () => {
    const c = checkSession(plan(''), session('198.51.100.20', '192.0.2.99'));
    expect(c.refusals.join('\n')).toMatch(/this open SSH session .* "! -d 192\.0\.2\.10\/32 -j DROP"/);
  });

  test('IPv6 admins: refused under IPV6=drop, fine under IPV6=mirror, ignored under IPV6=off', () => {
    const s = session('2001:db8:1::5', '2001:db8::10');
    expect(checkSession(plan('IPV6=drop'), s).refusals).toHaveLength(3);
    expect(checkSession(plan('IPV6=mirror'), s).refusals).toEqual([]);
    expect(checkSession(plan('IPV6=off'), s).refusals).toEqual([]);
  });

  test('an IPv4-mapped client address is judged as IPv4', () => {
    expect(checkSession(plan(''), session('198.51.100.20')).refusals).toEqual([]);
  });
});

test('bannedBy finds the fail2ban entry covering an address, and nothing else', () => {
  const lines = ['-N fail2ban-SSH', '-A fail2ban-SSH -s 198.51.100.0/24 -j REJECT --reject-with icmp-port-unreachable', '-A fail2ban-SSH -j RETURN'];
  expect(bannedBy(lines, '198.51.100.20')).toMatch(/198\.51\.100\.0\/24/);
  expect(bannedBy(lines, '203.0.113.1')).toBeUndefined();
  expect(bannedBy(['-A fail2ban-SSH -s 203.0.113.7/32 -j DROP'], '::ffff:203.0.113.7')).toBeDefined();
});
