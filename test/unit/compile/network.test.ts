/**
 * compile for issue 16, on the model: every address in "not addressed to me", services per interface and
 * interfaces trusted whole (item 4); port forwards, routes and masquerade (item 2); the egress policy (item 3);
 * IPv6's modes, RFC 4890 and a host with IPv6 only (item 7).
 */
import { describe, expect, test } from 'vitest';
import { describeRule } from '../../../src/compile/describe.js';
import { ICMPV6_NEEDED } from '../../../src/compile/icmpv6.js';
import { compile } from '../../../src/compile/plan.js';
import type { Family, Plan, Rule, TableName } from '../../../src/model.js';
import { MULTI_HOST, V6_ONLY_HOST } from '../backend/network-cases.js';
import { SEED_HOST, config } from '../fixtures.js';

const plan = (text: string, host: Parameters<typeof compile>[1] = MULTI_HOST) => compile(config(text), host);
const table = (p: Plan, family: Family, name: TableName = 'filter') => p.rulesets.find((r) => r.family === family)?.tables.find((t) => t.name === name);
const chain = (p: Plan, family: Family, name: string, t: TableName = 'filter') =>
  (table(p, family, t)?.rules ?? []).filter((r: Rule) => r.chain === name).map(describeRule);
const policy = (p: Plan, family: Family, name: string) => table(p, family)?.chains.find((c) => c.name === name)?.policy;

describe('item 4: every address, interfaces', () => {
  test('one address keeps the seed\'s rule; several get a chain that returns for each and drops the rest', () => {
    expect(chain(plan('', { ...SEED_HOST, locals: ['192.0.2.10'] }), 'ipv4', 'INPUT')).toContain('! -d 192.0.2.10/32 -j DROP');
    const p = plan('');
    expect(chain(p, 'ipv4', 'INPUT')).toContain('-j tsfw-unicast');
    expect(chain(p, 'ipv4', 'tsfw-unicast')).toEqual([
      '-d 192.0.2.10/32 -j RETURN', '-d 192.0.2.50/32 -j RETURN', '-d 192.0.2.253/32 -j RETURN', '-j DROP',
    ]);
    expect(table(p, 'ipv4')!.chains).toContainEqual({ name: 'tsfw-unicast' });
    expect(p.warnings).toEqual([]);
  });

  test('DROP_NOT_FOR_ME=no gives neither form', () => {
    expect(table(plan('DROP_NOT_FOR_ME=no'), 'ipv4')!.rules.some((r) => r.group === 'unicast')).toBe(false);
  });

  test('SERVICE_<NAME>_INTERFACES: one set of rules per interface; the ban lookup stays for all', () => {
    const input = chain(plan('SERVICES=ssh web\nSERVICE_WEB_INTERFACES=eth0 wg0'), 'ipv4', 'INPUT');
    expect(input.filter((r) => r.includes('80,443'))).toEqual([
      '-i eth0 -p tcp -m multiport --dports 80,443 -j ACCEPT', '-i wg0 -p tcp -m multiport --dports 80,443 -j ACCEPT',
    ]);
    expect(input).toContain('-p tcp -m tcp --dport 22 -m set --match-set f2b-SSH src -j DROP');
  });

  test('INTERFACE_<IF>_POLICY=accept trusts it after the friends, before "not addressed to me"; filter does nothing', () => {
    const p = plan('INTERFACE_wg0_POLICY=accept\nINTERFACE_eth1_POLICY=filter');
    const input = table(p, 'ipv4')!.rules.filter((r) => r.chain === 'INPUT');
    const at = input.findIndex((r) => r.group === 'interfaces');
    expect(describeRule(input[at]!)).toBe('-i wg0 -j ACCEPT');
    expect(input.filter((r) => r.group === 'interfaces')).toHaveLength(1);
    expect(input[at - 1]!.group).toBe('friends');
    expect(input[at + 1]!.group).toBe('unicast');
    // Without routes the FORWARD chain is left alone: nothing of ours there.
    expect(chain(p, 'ipv4', 'FORWARD')).toEqual([]);
  });
});

describe('item 2: forwards, routes, NAT', () => {
  const fwd = 'FORWARD_WEB=tcp:8080->192.0.2.254:80\nFORWARD_WEB_FROM=198.51.100.0/24\n';

  test('a forward: DNAT on each of our addresses from each allowed region, and its accept in FORWARD', () => {
    const p = plan(fwd, { ...SEED_HOST, locals: ['192.0.2.10'] });
    expect(chain(p, 'ipv4', 'PREROUTING', 'nat')).toEqual([
      '-s 198.51.100.0/24 -d 192.0.2.10/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.254:80',
    ]);
    expect(chain(p, 'ipv4', 'FORWARD')).toEqual([
      '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
      '-s 198.51.100.0/24 -d 192.0.2.254/32 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT',
    ]);
    // Forwards alone leave forwarding open, as the seed does; IPv6 is not translated.
    expect(policy(p, 'ipv4', 'FORWARD')).toBe('ACCEPT');
    expect(table(p, 'ipv6', 'nat')).toBeUndefined();
  });

  test('forwards wait for an address at boot, and say so', () => {
    const boot = plan(fwd, { boot: true, iface: 'eth0' });
    expect(table(boot, 'ipv4', 'nat')).toBeUndefined();
    expect(boot.warnings).toContain('FORWARD_*: the port forwards wait for the address (tsfirewall start)');
  });

  test('a route closes forwarding: our chain ends in DROP, replies first, routes per family and interface', () => {
    const p = plan('IPV6=mirror\nROUTE_LAN_FROM=eth1\nROUTE_LAN_TO=any\nROUTE_WEB_FROM=any\nROUTE_WEB_TO=192.0.2.254 2001:db8:9::/64\nROUTE_WEB_PORTS=80\nROUTE_WEB_PROTO=tcp udp\nINTERFACE_wg0_POLICY=accept');
    for (const family of ['ipv4', 'ipv6'] as const) expect(policy(p, family, 'FORWARD')).toBe('DROP');
    expect(chain(p, 'ipv4', 'FORWARD')).toEqual([
      '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT', '-i wg0 -j ACCEPT', '-i eth1 -j ACCEPT',
      '-d 192.0.2.254/32 -p tcp -m tcp --dport 80 -j ACCEPT', '-d 192.0.2.254/32 -p udp -m udp --dport 80 -j ACCEPT',
    ]);
    expect(chain(p, 'ipv6', 'FORWARD').slice(3)).toEqual(['-d 2001:db8:9::/64 -p tcp -m tcp --dport 80 -j ACCEPT', '-d 2001:db8:9::/64 -p udp -m udp --dport 80 -j ACCEPT']);
  });

  test('a route whose ends are all of the other family does not exist in this one', () => {
    const p = plan('IPV6=mirror\nROUTE_V6_FROM=2001:db8:1::/64\nROUTE_V6_TO=any');
    expect(chain(p, 'ipv4', 'FORWARD')).toEqual(['-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT']);
    expect(chain(p, 'ipv6', 'FORWARD')).toContain('-s 2001:db8:1::/64 -j ACCEPT');
  });

  test('SNAT_TO=masquerade needs no address: it is there at boot too', () => {
    const boot = plan('SNAT_INTERFACE=eth0\nSNAT_TO=masquerade', { boot: true, iface: 'eth0' });
    expect(chain(boot, 'ipv4', 'POSTROUTING', 'nat')).toEqual(['-o eth0 -j MASQUERADE']);
    expect(boot.warnings).toEqual([]);
  });
});

describe('item 3: egress', () => {
  test('OUTPUT_POLICY=drop: loopback, replies, the allow list, then our drop', () => {
    const p = plan('OUTPUT_POLICY=drop\nOUTPUT_ALLOW=udp:53@192.0.2.53 icmp tcp:443@eth0 198.51.100.0/24 2001:db8::/32');
    expect(policy(p, 'ipv4', 'OUTPUT')).toBe('DROP');
    expect(chain(p, 'ipv4', 'OUTPUT')).toEqual([
      '-o lo -j ACCEPT', '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT', '-d 192.0.2.53/32 -p udp -m udp --dport 53 -j ACCEPT',
      '-p icmp -j ACCEPT', '-o eth0 -p tcp -m tcp --dport 443 -j ACCEPT', '-d 198.51.100.0/24 -j ACCEPT',
    ]);
  });

  test('the default leaves OUTPUT open and empty', () => {
    const p = plan('');
    expect(policy(p, 'ipv4', 'OUTPUT')).toBe('ACCEPT');
    expect(chain(p, 'ipv4', 'OUTPUT')).toEqual([]);
  });
});

describe('item 7: IPv6', () => {
  test('mirror: the local subnet, RFC 4890 before "not addressed to me" (link-local and global addresses)', () => {
    const input = chain(plan('IPV6=mirror'), 'ipv6', 'INPUT');
    expect(input).toContain('-s 2001:db8:1::/64 -j ACCEPT');
    const icmp = input.filter((r) => r.includes('--icmpv6-type'));
    expect(icmp).toHaveLength(ICMPV6_NEEDED.length);
    expect(icmp).toContain('-s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT');
    expect(icmp).not.toContain('-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT');
    expect(input.indexOf('-j tsfw-unicast')).toBeGreaterThan(input.indexOf(icmp[icmp.length - 1]!));
    expect(chain(plan('IPV6=mirror'), 'ipv6', 'tsfw-unicast')).toEqual(['-d 2001:db8:1::10/128 -j RETURN', '-d fe80::10/128 -j RETURN', '-j DROP']);
  });

  test('redirects are not among the accepted: nobody on the link reroutes this host', () => {
    expect(ICMPV6_NEEDED.map((n) => n.type)).not.toContain('137');
  });

  test('drop-inbound: INPUT and FORWARD closed but for what IPv6 needs and the replies; OUTPUT open', () => {
    const p = plan('IPV6=drop-inbound');
    expect([policy(p, 'ipv6', 'INPUT'), policy(p, 'ipv6', 'FORWARD'), policy(p, 'ipv6', 'OUTPUT')]).toEqual(['DROP', 'DROP', 'ACCEPT']);
    const input = chain(p, 'ipv6', 'INPUT');
    expect(input[0]).toBe('-i lo -j ACCEPT');
    expect(input).toContain('-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT');
    expect(input.some((r) => r.includes('--dport'))).toBe(false);
    expect(chain(p, 'ipv6', 'OUTPUT')).toEqual([]);
    // drop (the seed) still closes OUTPUT too.
    expect(policy(plan('IPV6=drop'), 'ipv6', 'OUTPUT')).toBe('DROP');
  });

  test('drop-inbound with OUTPUT_POLICY=drop: IPv6 goes out by the same allow list, with what neighbour discovery sends', () => {
    const out = chain(plan('IPV6=drop-inbound\nOUTPUT_POLICY=drop\nOUTPUT_ALLOW=tcp:443'), 'ipv6', 'OUTPUT');
    expect(out).toContain('-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT');
    expect(out).toContain('-p ipv6-icmp -m icmp6 --icmpv6-type 131 -j ACCEPT');
    expect(out[out.length - 1]).toBe('-p tcp -m tcp --dport 443 -j ACCEPT');
  });

  test('a host with IPv6 only: IPv4 keeps no address-bound rule; IPv6 has its own', () => {
    const p = plan('IPV6=mirror', V6_ONLY_HOST);
    expect(table(p, 'ipv4')!.rules.some((r) => ['unicast', 'friends'].includes(r.group) || (r.group === 'antispoof' && r.match.src?.cidr !== '127.0.0.0/8'))).toBe(false);
    expect(chain(p, 'ipv6', 'INPUT')).toContain('-s 2001:db8:1::/64 -j ACCEPT');
    expect(p.warnings).toEqual([]);
  });
});
