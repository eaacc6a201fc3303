import { describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import type { Rule } from '../../../src/model.js';
import { describeRule } from '../../../src/compile/describe.js';
import { SEED_HOST, config } from '../fixtures.js';

const input = (rules: readonly Rule[]) => rules.filter((r) => r.chain === 'INPUT');
const groups = (rules: readonly Rule[]) => [...new Set(input(rules).map((r) => r.group))];
const ipv4 = (text = '', mode: 'ipset' | 'chain' = 'ipset') => compile(config(text, mode), SEED_HOST).rulesets[0]!;

describe('the seed ruleset, in the corrected order', () => {
  test('groups come in the order anti-spoofing, trust, unicast, bans, replies, services', () => {
    expect(groups(ipv4().tables[0]!.rules)).toEqual(['loopback', 'antispoof', 'friends', 'unicast', 'bans', 'replies', 'services']);
  });

  test('spoofed MYIP and 127/8 sources are dropped before the trusted subnet that contains MYIP is accepted', () => {
    const rules = input(ipv4().tables[0]!.rules).map(describeRule);
    const spoof = rules.indexOf('-s 192.0.2.10/32 -j DROP');
    const subnet = rules.indexOf('-s 192.0.2.0/24 -j ACCEPT');
    expect(spoof).toBeGreaterThan(0);
    expect(rules).toContain('-s 127.0.0.0/8 -j DROP');
    expect(subnet).toBeGreaterThan(spoof);
  });

  test('the filter policies are the seed\'s: INPUT DROP, FORWARD and OUTPUT ACCEPT', () => {
    expect(ipv4().tables[0]!.chains.slice(0, 3)).toEqual([
      { name: 'INPUT', policy: 'DROP' }, { name: 'FORWARD', policy: 'ACCEPT' }, { name: 'OUTPUT', policy: 'ACCEPT' },
    ]);
  });

  test('ssh: ban lookup before the replies accept, then one accept under the hit-rate limit', () => {
    const rules = input(ipv4().tables[0]!.rules);
    const ssh = rules.filter((r) => r.match.dports?.includes('22'));
    expect(ssh.map((r) => [r.group, r.match.srcSet ?? r.match.rateLimit?.name, r.target.kind])).toEqual([
      ['bans', 'f2b-SSH', 'DROP'], ['services', 'SSH', 'ACCEPT'],
    ]);
    expect(ssh[1]!.match).toEqual({ proto: 'tcp', dports: ['22'], rateLimit: { name: 'SSH', hits: 3, seconds: 180 } });
    expect(rules.indexOf(ssh[0]!)).toBeLessThan(rules.findIndex((r) => r.group === 'replies'));
  });

  test('chain mode creates the empty fail2ban-SSH chain and jumps to it', () => {
    const plan = compile(config('', 'chain'), SEED_HOST);
    expect(plan.banChains).toEqual(['fail2ban-SSH']);
    expect(plan.ipsets).toEqual([]);
    const filter = plan.rulesets[0]!.tables[0]!;
    expect(filter.chains).toContainEqual({ name: 'fail2ban-SSH' });
    expect(filter.rules.filter((r) => r.chain === 'fail2ban-SSH')).toEqual([]);
    expect(filter.rules.find((r) => r.group === 'bans')!.target).toEqual({ kind: 'jump', chain: 'fail2ban-SSH' });
  });

  test('ipset mode asks for a sized hash:ip set', () => {
    expect(compile(config(), SEED_HOST).ipsets).toEqual([
      { name: 'f2b-SSH', family: 'inet', type: 'hash:ip', maxelem: 262144 },
    ]);
  });

  test('the default compiles without warnings: no rule is shadowed', () => {
    expect(compile(config(), SEED_HOST).warnings).toEqual([]);
  });
});

describe('options', () => {
  test('SMTP only from one region; friends; ping; LOG before the limiter', () => {
    const rules = input(ipv4([
      'SERVICES=ssh smtp', 'SERVICE_SMTP_FROM=198.51.100.0/24', 'TRUSTED_NETS=203.0.113.0/24',
      'ALLOW_PING=yes', 'SERVICE_SSH_LOG_PREFIX=SSH before hitcounter',
    ].join('\n')).tables[0]!.rules).map(describeRule);
    expect(rules).toContain('-s 198.51.100.0/24 -p tcp --dport 25 -j ACCEPT'.replace('-p tcp', '-p tcp -m tcp'));
    expect(rules).toContain('-s 203.0.113.0/24 -j ACCEPT');
    expect(rules).toContain('-p icmp -m icmp --icmp-type echo-request -j ACCEPT');
    const log = rules.findIndex((r) => r.includes('-j LOG --log-prefix "SSH before hitcounter "'));
    expect(log).toBeGreaterThan(0);
    expect(rules.findIndex((r) => r.includes('--update'))).toBe(log + 1);
  });

  test('LOG_DROPPED: one rate-limited LOG rule, last in INPUT, so it sees only what the policy drops', () => {
    const rules = input(ipv4('LOG_DROPPED=yes').tables[0]!.rules);
    expect(rules.at(-1)).toMatchObject({ chain: 'INPUT', group: 'dropped' });
    expect(describeRule(rules.at(-1)!)).toBe('-m limit --limit 3/minute --limit-burst 10 -j LOG --log-prefix "tsfw drop: "');
    expect(rules.filter((r) => r.target.kind === 'LOG')).toHaveLength(1);
    expect(input(ipv4('').tables[0]!.rules).some((r) => r.group === 'dropped')).toBe(false);
  });

  test('SNAT to MYIP by default, or to the given address', () => {
    const nat = (text: string) => ipv4(text).tables.find((t) => t.name === 'nat')!.rules.map(describeRule);
    expect(nat('SNAT_INTERFACE=eth1')).toEqual(['-o eth1 -j SNAT --to-source 192.0.2.10']);
    expect(nat('SNAT_INTERFACE=eth1\nSNAT_TO=198.51.100.5')).toEqual(['-o eth1 -j SNAT --to-source 198.51.100.5']);
    expect(ipv4('SERVICES=ssh web').tables.map((t) => t.name)).toEqual(['filter']);
  });

  test('ftp gets the conntrack helper in the raw table, so passive data connections are RELATED', () => {
    const raw = (text?: string) => ipv4(text).tables.find((t) => t.name === 'raw')?.rules.map(describeRule);
    expect(raw()).toEqual(['-p tcp -m tcp --dport 21 -j CT --helper ftp']);
    expect(raw('SERVICES=ftp\nSERVICE_FTP_PORTS=21 2121')).toEqual(['-p tcp -m multiport --dports 21,2121 -j CT --helper ftp']);
    expect(raw('SERVICES=ssh web')).toBeUndefined();
  });

  test('more than 15 ports are split across multiport rules', () => {
    const ports = Array.from({ length: 20 }, (_, i) => String(7000 + i)).join(' ');
    const rules = input(ipv4(`SERVICES=many\nSERVICE_MANY_PORTS=${ports}`).tables[0]!.rules).filter((r) => r.group === 'services');
    expect(rules.map((r) => r.match.dports!.length)).toEqual([15, 5]);
  });
});

describe('IPv6', () => {
  test('drop: everything but loopback, in all three chains', () => {
    const v6 = compile(config(), SEED_HOST).rulesets[1]!;
    expect(v6.family).toBe('ipv6');
    expect(v6.tables[0]!.chains.map((c) => c.policy)).toEqual(['DROP', 'DROP', 'DROP']);
    expect(v6.tables[0]!.rules.map(describeRule)).toEqual(['-i lo -j ACCEPT', '-o lo -j ACCEPT']);
  });

  test('drop with LOG_DROPPED: the IPv6 drops are logged too, at the same rate', () => {
    const v6 = compile(config('LOG_DROPPED=1/second'), SEED_HOST).rulesets[1]!;
    expect(v6.tables[0]!.rules.map(describeRule)).toEqual([
      '-i lo -j ACCEPT', '-o lo -j ACCEPT', '-m limit --limit 1/second --limit-burst 10 -j LOG --log-prefix "tsfw drop: "',
    ]);
  });

  test('mirror: the same services, neighbour discovery allowed, IPv6 friends only, ban set per family', () => {
    const plan = compile(config('IPV6=mirror\nTRUSTED_NETS=203.0.113.0/24 2001:db8:1::/48'), SEED_HOST);
    const rules = plan.rulesets[1]!.tables[0]!.rules.map(describeRule);
    expect(rules).toContain('-s 2001:db8:1::/48 -j ACCEPT');
    expect(rules).not.toContain('-s 203.0.113.0/24 -j ACCEPT');
    expect(rules).toContain('-s 2001:db8::10/128 -j DROP');
    expect(rules).toContain('-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT');
    expect(rules.some((r) => r.includes('--dport 22') && r.includes('f2b6-SSH'))).toBe(true);
    expect(plan.ipsets.map((s) => `${s.name}/${s.family}`)).toEqual(['f2b-SSH/inet', 'f2b6-SSH/inet6']);
  });

  test('off: no IPv6 ruleset at all, and IPv6 friends are reported as unused', () => {
    const plan = compile(config('IPV6=off\nTRUSTED_NETS=2001:db8::/32'), SEED_HOST);
    expect(plan.rulesets.map((r) => r.family)).toEqual(['ipv4']);
    expect(plan.warnings).toEqual([expect.stringMatching(/2001:db8::\/32 is IPv6 but IPV6=off/)]);
  });
});
