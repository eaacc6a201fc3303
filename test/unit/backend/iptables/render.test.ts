/**
 * Golden files pin the exact restore text for the seed's default and a rich config. After an intended change,
 * rewrite them with UPDATE_GOLDEN=1 and review the diff like any other code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { compile } from '../../../../src/compile/plan.js';
import { BLOCKLISTS, SCOPE } from '../nftables/cases.js';
import { renderRule, renderRuleset } from '../../../../src/backend/iptables/render.js';
import type { Rule } from '../../../../src/model.js';
import { SEED_HOST, SNIPPETS, config, configWithSnippets } from '../../fixtures.js';

const RICH = [
  'TRUSTED_NETS=163.1.2.0/24 2001:db8:1::/48', 'SERVICES=ssh ftp smtp web dns', 'SERVICE_SMTP_FROM=129.67.1.0/24',
  'SERVICE_SSH_RATE_LIMIT=5/60', 'SERVICE_SSH_LOG_PREFIX=SSH before hitcounter', 'SNAT_INTERFACE=eth1',
  'IPV6=mirror', 'ALLOW_PING=yes', 'LOG_DROPPED=10/min',
].join('\n');

const CONFIGS = {
  default: () => config('', 'ipset'),
  'default-chain': () => config('', 'chain'),
  rich: () => config(RICH, 'ipset'),
  blocklists: () => config(BLOCKLISTS, 'ipset'),
  scope: () => config(SCOPE, 'ipset'),
  'scope-chain': () => config(SCOPE, 'chain'),
  snippets: () => configWithSnippets('IPV6=mirror\nLOG_DROPPED=yes', SNIPPETS, 'iptables'),
};

test.each(Object.keys(CONFIGS) as (keyof typeof CONFIGS)[])('%s', (name) => {
  for (const ruleset of compile(CONFIGS[name](), SEED_HOST).rulesets) {
    const file = new URL(`./golden/${name}.${ruleset.family}.rules`, import.meta.url);
    const actual = renderRuleset(ruleset);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
    expect(actual).toBe(readFileSync(file, 'utf8'));
  }
});

test("a hit-rate limit is xt_recent's two rules, as the seed wrote them; the drop carries the limiter's marker", () => {
  const ssh: Rule = {
    chain: 'INPUT', group: 'services', service: 'ssh', target: { kind: 'ACCEPT' },
    match: { inIface: 'eth0', proto: 'tcp', dports: ['22'], rateLimit: { name: 'SSH', hits: 3, seconds: 180 } },
  };
  expect(renderRule(ssh, 'tsfw-input')).toEqual([
    '-A tsfw-input -i eth0 -p tcp -m tcp --dport 22 -m recent --update --seconds 180 --hitcount 3 --name SSH --rsource -m comment --comment tsfw:services:ssh:limit -j DROP',
    '-A tsfw-input -i eth0 -p tcp -m tcp --dport 22 -m recent --set --name SSH --rsource -m comment --comment tsfw:services:ssh -j ACCEPT',
  ]);
});
