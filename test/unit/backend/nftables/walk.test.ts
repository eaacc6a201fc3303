/**
 * explain's reading of `nft -j list ruleset` (walk.ts) against a real listing (fixtures/README.md,
 * explain-ruleset.json): every table, the hooks in priority order, our limiter and ban sets as matches, and the
 * walk on it end to end.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { readRule, walkOfRuleset } from '../../../../src/backend/nftables/walk.js';
import type { Obj } from '../../../../src/backend/nftables/text.js';
import { evaluate } from '../../../../src/safety/evaluate.js';
import type { Probe } from '../../../../src/safety/packet-match.js';

const json = readFileSync(new URL('./fixtures/explain-ruleset.json', import.meta.url), 'utf8');
const v4 = walkOfRuleset(json, 'ipv4');
const v6 = walkOfRuleset(json, 'ipv6');
const probe = (src: string, dport: number, state: Probe['state'] = 'NEW'): Probe => ({ src, dst: '192.0.2.10', proto: 'tcp', dport, state });
const judge = (p: Probe, walk = v4) => evaluate(walk, walk.hooks.input, 'input', p, { facts: { sets: walk.sets } });
const id = (name: string) => name;

describe('the ruleset as explain reads it', () => {
  test('every table the family passes, base chains by hook and priority: prerouting first, the foreign -10 before ours', () => {
    // iptables-nft's tables (empty, left by an earlier run in the namespace) are nft tables too.
    expect(v4.hooks.input).toEqual(['ip raw PREROUTING', 'helpers', 'inet foreign input', 'ip filter INPUT', 'input']);
    expect(v6.hooks.input).toEqual(['helpers', 'inet foreign input', 'ip6 filter INPUT', 'input']);
    expect(v4.hooks.output).toEqual(['output']);
    expect(v4.loaded).toBe(true);
    expect(v4.chains.find((c) => c.name === 'inet foreign input')).toEqual({ name: 'inet foreign input', policy: 'ACCEPT' });
  });

  test('our rules read back into the model\'s terms, the limiter\'s window as a budget', () => {
    const input4 = v4.rules.filter((r) => r.chain === 'input4');
    expect(input4.map((r) => r.group)).toEqual(['loopback', 'antispoof', 'antispoof', 'friends', 'unicast', 'bans', 'replies', 'icmp',
      'services', 'services', 'services', 'services', 'services', 'dropped', 'policy']);
    expect(input4.find((r) => r.group === 'bans')).toMatchObject({
      match: { proto: 'tcp', dports: ['22'], family: 'ipv4', srcSet: 'f2b-SSH' }, target: { kind: 'DROP' },
      text: 'tcp dport 22 ip saddr @f2b-SSH counter drop comment "tsfw:bans"',
    });
    expect(input4.filter((r) => r.group === 'services').map((r) => [r.match.srcSet, r.match.budget, r.target.kind])).toEqual([
      ['rlheld-SSH', undefined, 'DROP'], [undefined, { set: 'rl-SSH', burst: 3 }, 'DROP'], [undefined, undefined, 'ACCEPT'],
      [undefined, undefined, 'ACCEPT'], [undefined, undefined, 'ACCEPT'],
    ]);
    expect(input4.find((r) => r.group === 'dropped')).toMatchObject({ match: { limit: { rate: '3/minute', burst: 10 } }, target: { kind: 'LOG' } });
    expect(v4.rules.find((r) => r.chain === 'input')?.target).toEqual({ kind: 'jump', chain: 'input4' });
    expect(v6.rules.find((r) => r.chain === 'input')?.target).toEqual({ kind: 'jump', chain: 'input6' });
  });

  test('set members with their time left and the window\'s counter', () => {
    expect(v4.sets.get('f2b-SSH')).toEqual([expect.objectContaining({ ip: '198.51.100.66' })]);
    expect(v4.sets.get('rl-SSH')).toEqual([expect.objectContaining({ ip: '198.51.100.30', packets: 4 })]);
    expect(v4.sets.get('rlheld-SSH')).toEqual([expect.objectContaining({ ip: '198.51.100.30' })]);
  });

  test('statements it does not know stay unread; a vmap on anything but nfproto is an unread verdict', () => {
    const expr: Obj[] = [
      { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'sport' } }, right: 22 } },
      { vmap: { key: { payload: { protocol: 'tcp', field: 'dport' } }, data: { set: [[22, { accept: null }]] } } },
    ];
    const r = readRule(expr, 'ipv4', id);
    expect(r.match.unread).toEqual(['tcp sport 22']);
    expect(r.target.kind).toBe('unread');
    expect(readRule([{ match: { op: '!=', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '192.0.2.10' } }, { drop: null }], 'ipv4', id))
      .toEqual({ match: { family: 'ipv4', dst: { cidr: '192.0.2.10', negate: true } }, target: { kind: 'DROP' } });
    expect(readRule([{ match: { op: '==', left: { payload: { protocol: 'icmpv6', field: 'type' } }, right: { set: ['nd-router-solicit', 'echo-request'] } } }, { accept: null }], 'ipv6', id).match)
      .toEqual({ family: 'ipv6', proto: 'ipv6-icmp', icmpType: 'echo-request' });
  });

  test('no ruleset at all: nothing to walk', () => {
    expect(walkOfRuleset('', 'ipv4')).toMatchObject({ chains: [], rules: [], loaded: false, hooks: { input: [], forward: [], output: [] } });
  });
});

describe('the walk on it', () => {
  test('the banned host is dropped by the ban lookup, even on its open session', () => {
    for (const state of ['NEW', 'ESTABLISHED'] as const) {
      expect(judge(probe('198.51.100.66', 22, state))).toMatchObject({ action: 'DROP', chain: 'input4', rule: { group: 'bans' }, certain: true });
    }
  });

  test('the held source is dropped by the hold, another world source gets in, a friend passes first', () => {
    expect(judge(probe('198.51.100.30', 22))).toMatchObject({ action: 'DROP', rule: { match: { srcSet: 'rlheld-SSH' } } });
    expect(judge(probe('198.51.100.31', 22))).toMatchObject({ action: 'ACCEPT', rule: { group: 'services' } });
    expect(judge(probe('203.0.113.5', 23))).toMatchObject({ action: 'ACCEPT', rule: { group: 'friends' } });
  });

  test('the foreign table rejects port 7 before ours sees it; other ports pass it to ours', () => {
    expect(judge(probe('203.0.113.5', 7))).toMatchObject({ action: 'REJECT', chain: 'inet foreign input', rule: { text: 'tcp dport 7 reject' } });
    const v = judge(probe('198.51.100.31', 25));
    expect(v).toMatchObject({ action: 'DROP', chain: 'input4', rule: { group: 'policy' } });
    expect(v.path.filter((s) => s.outcome === 'policy').map((s) => s.chain)).toEqual(['ip raw PREROUTING', 'inet foreign input', 'ip filter INPUT']);
  });

  test('IPv6 under IPV6=drop: loopback only, then the policy', () => {
    expect(judge({ src: '2001:db8::5', dst: '2001:db8::10', proto: 'tcp', dport: 22, state: 'NEW' }, v6))
      .toMatchObject({ action: 'DROP', chain: 'input6', rule: { group: 'policy' } });
    expect(judge({ src: '::1', dst: '::1', proto: 'tcp', dport: 22, state: 'NEW' }, v6)).toMatchObject({ action: 'ACCEPT', rule: { group: 'loopback' } });
  });
});
