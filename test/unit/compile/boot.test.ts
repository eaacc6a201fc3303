/**
 * The boot-time ruleset (`start --early`, before the network): with no address known, compile drops exactly the
 * address-bound rules and marks the ruleset with BOOT_CHAIN; everything else is the full ruleset's, in its order.
 */
import { describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import { bootFacts } from '../../../src/discover/host.js';
import { BOOT_CHAIN, type Plan } from '../../../src/model.js';
import { describeRule } from '../../../src/compile/describe.js';
import { SEED_HOST, config } from '../fixtures.js';

const BOOT = { boot: true, iface: 'eth0' } as const;
const inputOf = (plan: Plan, family = 0) => plan.rulesets[family]!.tables[0]!.rules.filter((r) => r.chain === 'INPUT');

describe('compile for a host with no address yet', () => {
  test('every rule of the full ruleset but MYIP\'s anti-spoofing, the local subnet and "not addressed to me"', () => {
    const full = inputOf(compile(config('TRUSTED_NETS=203.0.113.0/24'), SEED_HOST)).map(describeRule);
    const boot = inputOf(compile(config('TRUSTED_NETS=203.0.113.0/24'), BOOT)).map(describeRule);
    expect(full.filter((r) => !boot.includes(r))).toEqual([
      '-s 192.0.2.10/32 -j DROP', '-s 192.0.2.0/24 -j ACCEPT', '! -d 192.0.2.10/32 -j DROP',
    ]);
    expect(boot).toEqual(full.filter((r) => boot.includes(r)));
    expect(boot).toContain('-s 127.0.0.0/8 -j DROP');
    expect(boot).toContain('-s 203.0.113.0/24 -j ACCEPT');
    expect(boot).toContain('-p tcp -m tcp --dport 22 -m set --match-set f2b-SSH src -j DROP');
  });

  test('the IPv4 filter table declares the empty marker chain; the full ruleset does not', () => {
    const boot = compile(config(), BOOT).rulesets[0]!.tables[0]!;
    expect(boot.chains).toContainEqual({ name: BOOT_CHAIN });
    expect(boot.rules.filter((r) => r.chain === BOOT_CHAIN)).toEqual([]);
    expect(compile(config(), SEED_HOST).rulesets[0]!.tables[0]!.chains).not.toContainEqual({ name: BOOT_CHAIN });
  });

  test('ban sets and chains are the full ruleset\'s, so fail2ban finds them when it starts', () => {
    for (const mode of ['ipset', 'chain'] as const) {
      const boot = compile(config('IPV6=mirror', mode), BOOT);
      const full = compile(config('IPV6=mirror', mode), SEED_HOST);
      expect(boot.ipsets).toEqual(full.ipsets);
      expect(boot.banChains).toEqual(full.banChains);
    }
  });

  test('IPV6=mirror: no IPv6 address to guard against spoofing, the rest mirrored', () => {
    const boot = inputOf(compile(config('IPV6=mirror'), BOOT), 1).map(describeRule);
    expect(boot).not.toContain('-s 2001:db8::10/128 -j DROP');
    expect(boot).toContain('-s ::1/128 -j DROP');
    expect(boot).toContain('-p tcp -m tcp --dport 22 -m set --match-set f2b6-SSH src -j DROP');
  });

  test('SNAT to MYIP waits for the address (with a warning that says how to have it at boot); SNAT_TO loads', () => {
    const waiting = compile(config('SNAT_INTERFACE=eth1'), BOOT);
    expect(waiting.rulesets[0]!.tables.map((t) => t.name)).not.toContain('nat');
    expect(waiting.warnings).toEqual([expect.stringMatching(/SNAT_INTERFACE: SNAT to MYIP waits for the address.*set SNAT_TO/)]);
    const fixed = compile(config('SNAT_INTERFACE=eth1\nSNAT_TO=198.51.100.7'), BOOT);
    const nat = fixed.rulesets[0]!.tables.find((t) => t.name === 'nat')!;
    expect(nat.rules.map(describeRule)).toEqual(['-o eth1 -j SNAT --to-source 198.51.100.7']);
    expect(fixed.warnings).toEqual([]);
  });

  test('bootFacts: a config that fixes MYIP and NETMASK needs no discovery and gives the full ruleset', () => {
    const fixed = config('INTERFACE=eth0\nMYIP=192.0.2.10\nNETMASK=24');
    const host = bootFacts(fixed);
    expect(host).toEqual({ iface: 'eth0', myip: '192.0.2.10', prefix: 24, myip6: [], warnings: [] });
    expect(inputOf(compile(fixed, host)).map(describeRule)).toEqual(inputOf(compile(config(), { ...SEED_HOST, myip6: [] })).map(describeRule));
    expect(bootFacts(config('INTERFACE=eth1'))).toEqual({ boot: true, iface: 'eth1' });
    expect(bootFacts(config())).toEqual({ boot: true, iface: undefined });
  });
});
