/**
 * The lock-out guard with the issue-16 keys: a service limited to interfaces and an interface trusted whole are
 * judged by the interface the routes say the client is reached by; an egress drop is checked for the session's
 * replies; a session to a second address of the host is no longer cut once every address counts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import type { Plan } from '../../../src/model.js';
import { evaluateChain } from '../../../src/safety/evaluate.js';
import { reachedBy } from '../../../src/safety/ingress.js';
import { checkSession, guardSession, LockoutError } from '../../../src/safety/lockout.js';
import { config, SEED_HOST } from '../fixtures.js';

const plan = (text: string, host = SEED_HOST) => compile(config(text), host);
const session = (client: string, server = '192.0.2.10') => ({ client, clientPort: 50000, server, serverPort: 22 });

describe('per-interface rules', () => {
  test('SSH limited to eth1: refused for a client reached by eth0, fine by eth1; unknown is refused', () => {
    const p = plan('SERVICE_SSH_INTERFACES=eth1\nTRUST_LOCAL_SUBNET=no');
    expect(checkSession(p, session('198.51.100.20'), 'eth0').refusals).toEqual([
      'a new SSH connection from 198.51.100.20 to 192.0.2.10 port 22 would be dropped by the ipv4 INPUT policy DROP',
    ]);
    expect(checkSession(p, session('198.51.100.20'), 'eth1').refusals).toEqual([]);
    expect(checkSession(p, session('198.51.100.20')).refusals).toHaveLength(1);
  });

  test('an interface trusted whole lets the admin in whatever SERVICES says', () => {
    const p = plan('SERVICES=web\nINTERFACE_wg0_POLICY=accept\nTRUST_LOCAL_SUBNET=no');
    expect(checkSession(p, session('198.51.100.20'), 'wg0').refusals).toEqual([]);
    expect(checkSession(p, session('198.51.100.20'), 'eth0').refusals).toHaveLength(1);
  });

  test('a session to a second address of the host passes the "not addressed to me" chain', () => {
    const host = { ...SEED_HOST, locals: ['192.0.2.10', '192.0.2.50', '2001:db8::10'] };
    expect(checkSession(plan('', host), session('198.51.100.20', '192.0.2.50')).refusals).toEqual([]);
    expect(checkSession(plan('TRUST_LOCAL_SUBNET=no', host), session('198.51.100.20', '192.0.2.99')).refusals).toHaveLength(2);
  });
});

describe('egress drop', () => {
  test("the compiled OUTPUT_POLICY=drop lets every session's replies out, and nothing else to the client", () => {
    const rs = plan('OUTPUT_POLICY=drop\nOUTPUT_ALLOW=udp:53').rulesets[0]!;
    expect(checkSession(plan('OUTPUT_POLICY=drop'), session('198.51.100.20')).refusals).toEqual([]);
    const reply = { src: '192.0.2.10', dst: '198.51.100.20', proto: 'tcp' as const, dport: 50000 };
    expect(evaluateChain(rs, 'OUTPUT', { ...reply, state: 'ESTABLISHED' })).toMatchObject({ action: 'ACCEPT', rule: { group: 'replies' } });
    expect(evaluateChain(rs, 'OUTPUT', { ...reply, state: 'NEW' })).toMatchObject({ action: 'DROP' });
    expect(evaluateChain(rs, 'OUTPUT', { ...reply, proto: 'udp', dport: 53, state: 'NEW' })).toMatchObject({ action: 'ACCEPT', rule: { group: 'egress' } });
  });

  test('an OUTPUT chain that drops the replies is refused, naming the rule; --force loads it with a warning', async () => {
    const p = plan('OUTPUT_POLICY=drop');
    const v4 = p.rulesets[0]!;
    const filter = v4.tables[0]!;
    const dropSsh = { chain: 'OUTPUT', group: 'egress' as const, match: { proto: 'tcp' as const, dports: ['50000'] }, target: { kind: 'DROP' as const } };
    const bad: Plan = { ...p, rulesets: [{ ...v4, tables: [{ ...filter, rules: [dropSsh, ...filter.rules] }, ...v4.tables.slice(1)] }, ...p.rulesets.slice(1)] };
    const refusals = checkSession(bad, session('198.51.100.20')).refusals;
    expect(refusals).toEqual([
      'the replies of SSH from 192.0.2.10 port 22 to 198.51.100.20 (this session\'s, and a new one\'s) would be dropped by the rule "-p tcp -m tcp --dport 50000 -j DROP"',
    ]);
    const sessions = [{ ...session('198.51.100.20'), via: 'SSH_CONNECTION' as const, loggedIn: true }];
    const backend = { bans: { holds: async () => false } } as unknown as Parameters<typeof guardSession>[1];
    await expect(guardSession(bad, backend, { force: false, sessions, reachedBy: () => 'eth0' })).rejects.toBeInstanceOf(LockoutError);
    await expect(guardSession(bad, backend, { force: true, sessions, reachedBy: () => 'eth0' })).resolves.toBeUndefined();
  });
});

describe('reachedBy: the interface a client is reached by, from /proc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-routes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const route4 = join(dir, 'route');
  const route6 = join(dir, 'ipv6_route');
  writeFileSync(route4, [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'eth1\tFC0200C0\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0',
    '',
  ].join('\n'));
  writeFileSync(route6, [
    '20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000100000000000000000001 00000400 00000001 00000000 00000003     eth0',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
    '',
  ].join('\n'));
  const opts = { routes: { route4, route6 }, interfaces: () => ({ eth0: [{ address: '192.0.2.10', netmask: '', family: 'IPv4' as const, mac: '', internal: false, cidr: null }] }) };

  test('the longest prefix wins; the host\'s own address is loopback; IPv6 too', () => {
    expect(reachedBy('192.0.2.254', opts)).toBe('eth1');
    expect(reachedBy('192.0.2.20', opts)).toBe('eth0');
    expect(reachedBy('198.51.100.20', opts)).toBe('eth0');
    expect(reachedBy('192.0.2.10', opts)).toBe('lo');
    expect(reachedBy('2001:db8:2::20', opts)).toBe('eth0');
    expect(reachedBy('not an address', opts)).toBeUndefined();
  });
});
