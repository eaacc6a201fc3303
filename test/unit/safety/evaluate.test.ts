/**
 * The walk itself (safety/evaluate.ts) on small rulesets written out by hand: hooks of several base chains, jumps,
 * gotos and returns, REJECT, what the kernel's facts decide and what stays "maybe".
 */
import { describe, expect, test } from 'vitest';
import type { KernelFacts, WalkChain, WalkRule } from '../../../src/backend/types.js';
import { evaluate } from '../../../src/safety/evaluate.js';
import type { Probe } from '../../../src/safety/packet-match.js';

const rule = (chain: string, text: string, r: Partial<WalkRule>): WalkRule => ({ chain, match: {}, target: { kind: 'CONTINUE' }, text, ...r });
const ssh = (src: string, state: Probe['state'] = 'NEW'): Probe => ({ src, dst: '192.0.2.10', proto: 'tcp', dport: 22, state });
const run = (chains: WalkChain[], rules: WalkRule[], entry: string[], probe: Probe, facts: KernelFacts = {}) =>
  evaluate({ chains, rules }, entry, 'input', probe, { facts });

describe('one hook, several base chains', () => {
  const chains: WalkChain[] = [{ name: 'early', policy: 'ACCEPT' }, { name: 'main', policy: 'DROP' }, { name: 'late', policy: 'ACCEPT' }];
  const rules = [
    rule('early', 'tcp dport 7 reject', { match: { proto: 'tcp', dports: ['7'] }, target: { kind: 'REJECT' } }),
    rule('early', 'tcp dport 22 accept', { match: { proto: 'tcp', dports: ['22'] }, target: { kind: 'ACCEPT' } }),
    rule('main', 'tcp dport 80 accept', { match: { proto: 'tcp', dports: ['80'] }, target: { kind: 'ACCEPT' } }),
  ];

  test('an accept in one base chain lets the next one judge: its policy drops what it does not accept', () => {
    const v = run(chains, rules, ['early', 'main', 'late'], ssh('198.51.100.20'));
    expect(v).toMatchObject({ action: 'DROP', chain: 'main', certain: true });
    expect(v.rule).toBeUndefined();
    expect(v.path.map((s) => [s.chain, s.outcome])).toEqual([['early', 'matched'], ['main', 'policy']]);
  });

  test('a reject anywhere is final; the last explicit accept decides, not a later chain\'s policy', () => {
    expect(run(chains, rules, ['early', 'main'], { ...ssh('198.51.100.20'), dport: 7 })).toMatchObject({ action: 'REJECT', chain: 'early' });
    const v = run(chains, rules, ['early', 'main', 'late'], { ...ssh('198.51.100.20'), dport: 80 });
    expect(v).toMatchObject({ action: 'ACCEPT', chain: 'main', rule: { text: 'tcp dport 80 accept' } });
    expect(v.path.at(-1)).toMatchObject({ chain: 'late', outcome: 'policy', policy: 'ACCEPT' });
  });

  test('no base chain at the hook: nothing filters, the packet is accepted', () => {
    const v = run([], [], [], ssh('198.51.100.20'));
    expect(v).toMatchObject({ action: 'ACCEPT', path: [] });
    expect([v.rule, v.chain]).toEqual([undefined, undefined]);
  });
});

describe('jumps, gotos and returns', () => {
  const chains: WalkChain[] = [{ name: 'INPUT', policy: 'ACCEPT' }, { name: 'ours' }, { name: 'bans' }, { name: 'tail' }];
  const rules = [
    rule('INPUT', '-j ours', { target: { kind: 'jump', chain: 'ours' } }),
    rule('ours', '-p tcp --dport 22 -j bans', { match: { proto: 'tcp', dports: ['22'] }, target: { kind: 'jump', chain: 'bans' } }),
    rule('ours', '-s 203.0.113.0/24 -g tail', { match: { src: { cidr: '203.0.113.0/24' } }, target: { kind: 'goto', chain: 'tail' } }),
    rule('ours', '-j DROP', { target: { kind: 'DROP' } }),
    rule('bans', '-s 198.51.100.66 -j DROP', { match: { src: { cidr: '198.51.100.66/32' } }, target: { kind: 'DROP' } }),
    rule('bans', '-j RETURN', { target: { kind: 'RETURN' } }),
    rule('tail', '-p tcp -j LOG', { match: { proto: 'tcp' }, target: { kind: 'LOG', prefix: 'x' } }),
  ];

  test('a jump comes back at the RETURN and the walk goes on; a drop in the jumped-to chain is final', () => {
    expect(run(chains, rules, ['INPUT'], ssh('198.51.100.20'))).toMatchObject({ action: 'DROP', chain: 'ours', rule: { text: '-j DROP' } });
    expect(run(chains, rules, ['INPUT'], ssh('198.51.100.66'))).toMatchObject({ action: 'DROP', chain: 'bans' });
  });

  test('a goto does not come back: the end of its chain ends the calling chain, here the built-in\'s policy', () => {
    const v = run(chains, rules, ['INPUT'], { ...ssh('203.0.113.9'), dport: 80 });
    expect(v).toMatchObject({ action: 'ACCEPT', chain: 'INPUT' });
    expect(v.rule).toBeUndefined();
    expect(v.path.map((s) => s.outcome)).toEqual(['matched', 'matched', 'passed', 'policy']);
  });
});

describe('what only the kernel knows', () => {
  const chains: WalkChain[] = [{ name: 'input4', policy: 'DROP' }];
  const rules = [
    rule('input4', 'ban lookup', { match: { proto: 'tcp', dports: ['22'], srcSet: 'f2b-SSH' }, target: { kind: 'DROP' }, group: 'bans' }),
    rule('input4', 'held', { match: { proto: 'tcp', dports: ['22'], srcSet: 'rlheld-SSH' }, target: { kind: 'DROP' } }),
    rule('input4', 'window', { match: { proto: 'tcp', dports: ['22'], budget: { set: 'rl-SSH', burst: 3 } }, target: { kind: 'DROP' } }),
    rule('input4', 'recent', { match: { proto: 'tcp', dports: ['22'], recent: { op: 'update', name: 'SSH', seconds: 180, hitcount: 3 } }, target: { kind: 'DROP' } }),
    rule('input4', 'accept', { match: { proto: 'tcp', dports: ['22'] }, target: { kind: 'ACCEPT' } }),
  ];
  const facts: KernelFacts = {
    sets: new Map([
      ['f2b-SSH', [{ ip: '198.51.100.66', expiresIn: 598 }, { ip: '198.51.100.128/25' }]],
      ['rlheld-SSH', [{ ip: '198.51.100.30', expiresIn: 170 }]],
      ['rl-SSH', [{ ip: '198.51.100.31', packets: 3 }, { ip: '198.51.100.32', packets: 2 }]],
    ]),
    recent: new Map([['SSH', [{ src: '198.51.100.33', ages: [1, 2, 3] }, { src: '198.51.100.34', ages: [1, 2, 500] }, { src: '198.51.100.35' }]]]),
  };

  test.each([
    ['198.51.100.66', 'DROP', 'ban lookup', /198\.51\.100\.66 is in set f2b-SSH, 9m58s left/],
    ['198.51.100.200', 'DROP', 'ban lookup', /198\.51\.100\.200 is in set f2b-SSH \(as 198\.51\.100\.128\/25\)/],
    ['198.51.100.30', 'DROP', 'held', /is in set rlheld-SSH, 2m50s left/],
    ['198.51.100.31', 'DROP', 'window', /used 3 of 3 new connections in window rl-SSH/],
    ['198.51.100.32', 'ACCEPT', 'accept', /used 2 of 3 new connections/],
    ['198.51.100.33', 'DROP', 'recent', /has 3 hits in 180 s in list SSH \(limit 3\)/],
    ['198.51.100.34', 'ACCEPT', 'accept', /has 2 hits in 180 s/],
  ])('%s: %s by %s', (src, action, by, note) => {
    const v = run(chains, rules, ['input4'], ssh(src), facts);
    expect(v).toMatchObject({ action, rule: { text: by }, certain: true });
    expect(v.path.flatMap((s) => s.notes).join('\n')).toMatch(note);
  });

  test('a limiter source whose hit times cannot be read leaves the verdict uncertain, and the accept is not trusted', () => {
    const v = run(chains, rules, ['input4'], ssh('198.51.100.35'), facts);
    expect(v.certain).toBe(false);
    expect(v.path.find((s) => s.rule?.text === 'recent')).toMatchObject({ outcome: 'maybe' });
    expect(v.conditional.map((r) => r.text)).toEqual(['recent']);
  });

  test('without facts (the lock-out guard before a load) every lookup is a maybe: the maybe-drops are conditional', () => {
    const v = run(chains, rules, ['input4'], ssh('198.51.100.66'));
    expect(v).toMatchObject({ action: 'ACCEPT', rule: { text: 'accept' }, certain: false });
    expect(v.conditional.map((r) => r.text)).toEqual(['ban lookup', 'held', 'window', 'recent']);
  });

  test('an unread match is a maybe and says what could not be read', () => {
    const v = run(chains, [rule('input4', 'odd', { match: { unread: ['-m addrtype --dst-type LOCAL'] }, target: { kind: 'ACCEPT' } })], ['input4'], ssh('198.51.100.20'));
    expect(v).toMatchObject({ action: 'DROP', certain: false });
    expect(v.path[0]).toMatchObject({ outcome: 'maybe', notes: ['cannot read: -m addrtype --dst-type LOCAL'] });
  });

  test('a rule for the other family never matches', () => {
    const v = run(chains, [rule('input4', 'v6', { match: { family: 'ipv6' }, target: { kind: 'ACCEPT' } })], ['input4'], ssh('198.51.100.20'));
    expect(v).toMatchObject({ action: 'DROP', path: [{ outcome: 'policy' }] });
  });
});

describe('the packet\'s own fields', () => {
  const chains: WalkChain[] = [{ name: 'c', policy: 'DROP' }];
  const accept = (match: WalkRule['match']) => [rule('c', 'r', { match, target: { kind: 'ACCEPT' } })];
  const verdict = (match: WalkRule['match'], probe: Probe) => run(chains, accept(match), ['c'], probe).action;

  test('interfaces: lo only for loopback sources unless --iface says; eth+ and eth* are prefixes', () => {
    expect(verdict({ inIface: 'lo' }, ssh('127.0.0.1'))).toBe('ACCEPT');
    expect(verdict({ inIface: 'lo' }, ssh('198.51.100.20'))).toBe('DROP');
    expect(verdict({ inIface: 'lo' }, { ...ssh('192.0.2.10'), iface: 'lo' })).toBe('ACCEPT');
    expect(verdict({ inIface: 'eth+' }, { ...ssh('198.51.100.20'), iface: 'eth1' })).toBe('ACCEPT');
    expect(verdict({ inIface: 'eth*' }, { ...ssh('198.51.100.20'), iface: 'wlan0' })).toBe('DROP');
    expect(run(chains, accept({ inIface: 'eth0' }), ['c'], ssh('198.51.100.20')).certain).toBe(false);
  });

  test('ports and ranges, states, a negated destination, ICMP echo in both families', () => {
    expect(verdict({ proto: 'tcp', dports: ['20:23'] }, ssh('198.51.100.20'))).toBe('ACCEPT');
    expect(verdict({ proto: 'udp', dports: ['22'] }, ssh('198.51.100.20'))).toBe('DROP');
    expect(verdict({ ctstate: ['ESTABLISHED', 'RELATED'] }, ssh('198.51.100.20', 'ESTABLISHED'))).toBe('ACCEPT');
    expect(verdict({ ctstate: ['ESTABLISHED', 'RELATED'] }, ssh('198.51.100.20'))).toBe('DROP');
    expect(verdict({ dst: { cidr: '192.0.2.10/32', negate: true } }, { ...ssh('198.51.100.20'), dst: '192.0.2.99' })).toBe('ACCEPT');
    const ping = (src: string): Probe => ({ src, proto: 'icmp', state: 'NEW' });
    expect(verdict({ proto: 'icmp', icmpType: '8' }, ping('198.51.100.20'))).toBe('ACCEPT');
    expect(verdict({ proto: 'icmp', icmpType: 'echo-request' }, ping('198.51.100.20'))).toBe('ACCEPT');
    expect(verdict({ proto: 'ipv6-icmp', icmpType: '128' }, ping('2001:db8::5'))).toBe('ACCEPT');
    expect(verdict({ proto: 'ipv6-icmp', icmpType: '133' }, ping('2001:db8::5'))).toBe('DROP');
    expect(verdict({ proto: 'tcp', dports: ['22'] }, ping('198.51.100.20'))).toBe('DROP');
  });
});
