/**
 * Golden files pin the exact `nft -f` document per config (test/integration/nftables-golden.test.ts proves each one
 * loads). After an intended change, rewrite them with UPDATE_GOLDEN=1 and review the diff like any other code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { removeDocument, renderDocument, rollbackDocument, type Holdings } from '../../../../src/backend/nftables/render.js';
import { renderRule } from '../../../../src/backend/nftables/rules.js';
import type { Rule } from '../../../../src/model.js';
import { CASES, goldenFile } from './cases.js';

describe('golden documents', () => {
  test.each(Object.keys(CASES))('%s', (name) => {
    const actual = renderDocument(CASES[name]!());
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(goldenFile(name), actual);
    expect(actual).toBe(readFileSync(goldenFile(name), 'utf8'));
  });
});

test('a hit-rate limit is the hold, the window and then the rule\'s own line; the drops carry the limiter\'s marker', () => {
  const ssh: Rule = {
    chain: 'INPUT', group: 'services', service: 'ssh', target: { kind: 'ACCEPT' },
    match: { proto: 'tcp', dports: ['22'], rateLimit: { name: 'SSH', hits: 3, seconds: 180 } },
  };
  const r = renderRule(ssh, { family: 'ipv6', table: 'filter', banChains: new Set(), ipsets: new Map() });
  expect(r.lines).toEqual([
    'tcp dport 22 ip6 saddr @rlheld6-SSH update @rlheld6-SSH { ip6 saddr } counter drop comment "tsfw:services:ssh:limit"',
    'tcp dport 22 add @rl6-SSH { ip6 saddr counter limit rate over 1/week burst 3 packets } add @rlheld6-SSH { ip6 saddr } counter drop comment "tsfw:services:ssh:limit"',
    'tcp dport 22 counter accept comment "tsfw:services:ssh"',
  ]);
  expect(r.sets.map((s) => [s.name, s.flags.join(), s.timeout])).toEqual([['rl6-SSH', 'dynamic,timeout', 180], ['rlheld6-SSH', 'dynamic,timeout', 180]]);
});

describe('renderDocument', () => {
  test('is deterministic: the same plan gives the same bytes', () => {
    expect(renderDocument(CASES.rich!())).toBe(renderDocument(CASES.rich!()));
  });

  test('declares before it flushes, and flushes every chain it fills', () => {
    const doc = renderDocument(CASES.default!());
    const firstFlush = doc.indexOf('flush chain');
    expect(doc.indexOf('chain input4 {')).toBeLessThan(firstFlush);
    for (const chain of ['input', 'input4', 'input6', 'forward', 'forward4', 'output6']) {
      expect(doc).toContain(`flush chain inet tsfirewall ${chain}\n`);
    }
    expect(doc).not.toMatch(/flush (table|set)/);
  });

  test('every rule counts and carries its group, and each family chain ends in its policy', () => {
    const doc = renderDocument(CASES.rich!());
    const rules = doc.split('\n').filter((l) => l.startsWith('add rule ') && !l.includes('nfproto vmap'));
    expect(rules.length).toBeGreaterThan(40);
    for (const rule of rules) expect(rule).toMatch(/ counter .* comment "tsfw:[a-z]+(:[a-z0-9]+(:limit|:log)?)?"$|^add rule inet tsfirewall \S+ counter (drop|accept) comment "tsfw:policy"$/);
    const chainRules = (chain: string) => rules.filter((l) => l.startsWith(`add rule inet tsfirewall ${chain} `));
    expect(chainRules('input4').at(-1)).toBe('add rule inet tsfirewall input4 counter drop comment "tsfw:policy"');
    expect(chainRules('forward4')).toEqual(['add rule inet tsfirewall forward4 counter accept comment "tsfw:policy"']);
  });

  test('IPV6=off dispatches only IPv4: IPv6 passes our table untouched', () => {
    const plan = CASES.default!();
    const doc = renderDocument({ ...plan, rulesets: plan.rulesets.filter((r) => r.family === 'ipv4') });
    expect(doc).toContain('meta nfproto vmap { ipv4 : jump input4 }');
    expect(doc).not.toContain('input6');
  });

  test('chain mode keeps its bans in the same sets as ipset mode', () => {
    const chain = renderDocument(CASES['default-chain']!());
    expect(chain).toContain('tcp dport 22 ip saddr @f2b-SSH counter drop comment "tsfw:bans:ssh"');
    expect(chain).not.toContain('fail2ban-SSH');
    expect(chain.replace(/\n.*tsfw:bans.*/g, '')).toBe(renderDocument(CASES.default!()).replace(/\n.*tsfw:bans.*/g, ''));
  });

  test('the boot-time ruleset declares the empty boot chain; the full one does not', () => {
    expect(renderDocument(CASES.boot!())).toMatch(/\tchain tsfw-boot \{\n\t\}/);
    expect(renderDocument(CASES.default!())).not.toContain('tsfw-boot');
  });

  test('refuses text that cannot be an nft string instead of writing a broken or different rule', () => {
    const plan = CASES.default!();
    const v4 = plan.rulesets[0]!;
    const filter = v4.tables[0]!;
    const bad = { ...filter, rules: [...filter.rules, { chain: 'INPUT', group: 'dropped' as const, match: {}, target: { kind: 'LOG' as const, prefix: 'a" accept #' } }] };
    expect(() => renderDocument({ ...plan, rulesets: [{ ...v4, tables: [bad, ...v4.tables.slice(1)] }] })).toThrow(/nft string/);
  });
});

describe('a reload over what the kernel holds', () => {
  const held: Holdings = {
    chains: [
      { name: 'input', base: { type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
      { name: 'input4' },
      { name: 'tsfw-boot' },
      { name: 'forward', base: { type: 'filter', hook: 'forward', prio: 10, policy: 'accept' } },
    ],
    sets: [
      { name: 'f2b-SSH', type: 'ipv4_addr', flags: ['timeout'] },
      { name: 'f2b-OLD', type: 'ipv4_addr', flags: ['timeout'] },
      { name: 'rl-SSH', type: 'ipv4_addr', flags: ['timeout'] },
      { name: 'rlheld-OLD', type: 'ipv4_addr', flags: ['timeout'] },
      { name: 'f2b6-SSH', type: 'ipv6_addr', flags: ['interval', 'timeout'] },
    ],
    helpers: [{ name: 'irc-tcp', type: 'irc', protocol: 'tcp' }],
  };
  const doc = renderDocument(CASES.default!(), held);
  const before = doc.slice(0, doc.indexOf('set f2b-SSH {\n\t\ttype ipv4_addr; size'));

  test('declares each held chain as it is, then flushes it, before anything is deleted', () => {
    expect(before).toContain('\tchain forward {\n\t\ttype filter hook forward priority 10; policy accept;\n\t}');
    expect(before.indexOf('flush chain inet tsfirewall tsfw-boot')).toBeLessThan(before.indexOf('delete chain inet tsfirewall tsfw-boot'));
  });

  test('deletes what the plan no longer has and what the kernel cannot change in place, keeps the rest (rl-SSH: nft -j left out its dynamic flag)', () => {
    const deleted = before.split('\n').filter((l) => l.startsWith('delete '));
    expect(deleted).toEqual([
      'delete chain inet tsfirewall tsfw-boot',
      'delete chain inet tsfirewall forward',
      'delete set inet tsfirewall f2b-OLD',
      'delete set inet tsfirewall rlheld-OLD',
      'delete set inet tsfirewall f2b6-SSH',
      'delete ct helper inet tsfirewall irc-tcp',
    ]);
  });

  test('a set about to be deleted is declared with the flags it has (nft -j leaves out "dynamic")', () => {
    expect(before).toContain('\tset rlheld-OLD {\n\t\ttype ipv4_addr; flags dynamic,timeout;\n\t}');
  });

  test('without holdings there is nothing to delete', () => {
    expect(renderDocument(CASES.default!())).not.toContain('delete ');
  });
});

test('remove and rollback are single transactions that tolerate an absent table', () => {
  expect(removeDocument()).toBe('table inet tsfirewall {}\ndelete table inet tsfirewall\n');
  expect(rollbackDocument(undefined)).toBe(removeDocument());
  expect(rollbackDocument('table inet tsfirewall {\n}')).toBe(`${removeDocument()}table inet tsfirewall {\n}\n`);
});
