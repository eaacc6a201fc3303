/**
 * Golden files pin the exact restore text for the seed's default and a rich config. After an intended change,
 * rewrite them with UPDATE_GOLDEN=1 and review the diff like any other code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { compile } from '../../../../src/compile/plan.js';
import { BLOCKLISTS, SCOPE } from '../nftables/cases.js';
import { renderRuleset } from '../../../../src/backend/iptables/render.js';
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
