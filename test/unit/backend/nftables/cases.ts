/**
 * The configs the nftables golden files and captured fixtures are made from: the same three as the iptables
 * goldens (test/unit/render/golden.test.ts), plus the boot-time ruleset of the default.
 */
import { compile } from '../../../../src/compile/plan.js';
import type { Plan } from '../../../../src/model.js';
import { SEED_HOST, SNIPPETS, config, configWithSnippets } from '../../fixtures.js';

export const RICH = [
  'TRUSTED_NETS=163.1.2.0/24 2001:db8:1::/48', 'SERVICES=ssh ftp smtp web dns', 'SERVICE_SMTP_FROM=129.67.1.0/24',
  'SERVICE_SSH_RATE_LIMIT=5/60', 'SERVICE_SSH_LOG_PREFIX=SSH before hitcounter', 'SNAT_INTERFACE=eth1',
  'IPV6=mirror', 'ALLOW_PING=yes', 'LOG_DROPPED=10/min',
].join('\n');

const BOOT = { boot: true, iface: 'eth0' } as const;

export const CASES: Readonly<Record<string, () => Plan>> = {
  default: () => compile(config('', 'ipset'), SEED_HOST),
  'default-chain': () => compile(config('', 'chain'), SEED_HOST),
  rich: () => compile(config(RICH, 'ipset'), SEED_HOST),
  boot: () => compile(config('', 'ipset'), BOOT),
  snippets: () => compile(configWithSnippets('IPV6=mirror\nLOG_DROPPED=yes', SNIPPETS, 'nft'), SEED_HOST),
};

export const goldenFile = (name: string) => new URL(`./golden/${name}.nft`, import.meta.url);
