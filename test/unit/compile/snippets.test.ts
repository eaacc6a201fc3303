/** Where the raw snippets land in the plan, and what the backend's refusal of one is traced back to. */
import { describe, expect, test } from 'vitest';
import { snippetRefusal } from '../../../src/backend/snippet-errors.js';
import { renderDocument } from '../../../src/backend/nftables/render.js';
import { renderRuleset } from '../../../src/backend/iptables/render.js';
import { compile } from '../../../src/compile/plan.js';
import type { Plan } from '../../../src/model.js';
import { SEED_HOST, configWithSnippets } from '../fixtures.js';

const chainOf = (plan: Plan, family: 'ipv4' | 'ipv6', table: string, chain: string) =>
  plan.rulesets.find((r) => r.family === family)!.tables.find((t) => t.name === table)?.rules.filter((r) => r.chain === chain) ?? [];
const groups = (rules: ReturnType<typeof chainOf>) => rules.map((r) => (r.group === 'snippet' ? `snippet ${r.origin}` : r.group));

describe('placement', () => {
  const plan = compile(configWithSnippets('LOG_DROPPED=yes', {
    '20-b.before.rules': '-A INPUT -p tcp --dport 8080 -j ACCEPT\n',
    '10-a.before.rules': '-A INPUT -p tcp --dport 8081 -j ACCEPT\n-A OUTPUT -d 198.51.100.9 -j REJECT\n',
    '30-c.after.rules': '-A INPUT -p udp --dport 5353 -j ACCEPT\n-A OUTPUT -d 198.51.100.8 -j REJECT\n',
    '40-d.nat.rules': '-A POSTROUTING -o eth1 -j MASQUERADE\n',
  }, 'iptables'), SEED_HOST);

  test('before the services and after them, in lexical order of the files, ahead of the log and the policy', () => {
    const input = groups(chainOf(plan, 'ipv4', 'filter', 'INPUT'));
    const first = input.indexOf('services');
    expect(input.slice(first - 2, first)).toEqual(['snippet 10-a.before.rules:1', 'snippet 20-b.before.rules:1']);
    expect(input.slice(-2)).toEqual(['snippet 30-c.after.rules:1', 'dropped']);
  });

  test('a chain without service rules gets both at its end, before first', () => {
    expect(groups(chainOf(plan, 'ipv4', 'filter', 'OUTPUT'))).toEqual(['snippet 10-a.before.rules:2', 'snippet 30-c.after.rules:2']);
  });

  test('a nat snippet brings the nat table with it; an iptables snippet stays in its family', () => {
    expect(groups(chainOf(plan, 'ipv4', 'nat', 'POSTROUTING'))).toEqual(['snippet 40-d.nat.rules:1']);
    expect(chainOf(plan, 'ipv6', 'filter', 'INPUT').some((r) => r.group === 'snippet')).toBe(false);
    expect(renderRuleset(plan.rulesets[0]!)).toContain('-A tsfw-postrouting -m comment --comment tsfw:snippet:40-d.nat.rules:1 -o eth1 -j MASQUERADE');
  });

  test('a snippet in the other language, or for IPv6 with IPV6=off, is left out with a warning', () => {
    const other = compile(configWithSnippets('IPV6=off', { '10-a.before.nft': 'chain input {\n\taccept\n}\n', '20-b.before.rules6': '-A INPUT -j ACCEPT\n' }, 'iptables'), SEED_HOST);
    expect(other.warnings.join('\n')).toContain('/etc/tsfirewall.d/10-a.before.nft: a nft snippet, but this backend loads .rules or .rules6 snippets; left out');
    expect(other.warnings.join('\n')).toContain('/etc/tsfirewall.d/20-b.before.rules6: IPv6 rules, but IPV6=off loads no IPv6 ruleset; left out');
    expect(other.rulesets.flatMap((r) => r.tables.flatMap((t) => t.rules)).some((r) => r.group === 'snippet')).toBe(false);
  });

  test('an nft snippet goes into every family, a raw one into the raw-priority chains', () => {
    const nft = compile(configWithSnippets('', { '10-a.raw.nft': 'chain prerouting {\n\tudp dport 53 notrack\n}\n' }, 'nft'), SEED_HOST);
    const doc = renderDocument(nft);
    expect(doc).toContain('type filter hook prerouting priority raw; policy accept;');
    expect(doc.match(/udp dport 53 notrack comment "tsfw:snippet:10-a.raw.nft:2"/g)).toHaveLength(2);
    expect(doc).toMatch(/\nadd rule inet tsfirewall helpers4 tcp dport 21 counter ct helper set "ftp-tcp"/);
  });
});

describe('a refusal traced back to the snippet', () => {
  const plan = compile(configWithSnippets('', { '60-bad.before.nft': 'chain input {\n\ttcp dport 82 acept\n}\n' }, 'nft'), SEED_HOST);
  const doc = renderDocument(plan);
  const line = doc.split('\n').findIndex((l) => l.includes('acept')) + 1;

  test('nft names the document line: the snippet file and line are named, with the rule', () => {
    const e = snippetRefusal('nft -c rejected the ruleset', `/dev/stdin:${line}:17-21: Error: syntax error`, doc);
    expect(e?.exitCode).toBe(6);
    expect(e?.message).toBe(`nft -c rejected the ruleset: the snippet 60-bad.before.nft, line 2 (tcp dport 82 acept): /dev/stdin:${line}:17-21: Error: syntax error`);
  });

  test('iptables-restore names the line too; at COMMIT (iptables-nft) the table\'s snippets are named', () => {
    const text = '*filter\n:tsfw-input - [0:0]\n-A tsfw-input -m comment --comment tsfw:snippet:10-a.before.rules:3 -p tcp --dprt 1 -j ACCEPT\nCOMMIT\n';
    expect(snippetRefusal('x', 'unknown option "--dprt"\nError occurred at line: 3', text)?.message).toContain('the snippet 10-a.before.rules, line 3 (-p tcp --dprt 1 -j ACCEPT)');
    expect(snippetRefusal('x', 'Error occurred at line: 4', text)?.message).toContain('the filter table was refused as it was committed, and it holds the rules of 10-a.before.rules');
  });

  test('a refusal of a line that is not a snippet\'s is the tool\'s own', () => {
    expect(snippetRefusal('x', '/dev/stdin:1:1-3: Error', doc)).toBeUndefined();
  });
});
