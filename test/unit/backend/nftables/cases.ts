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

/** Two network blocklists, mirrored for IPv6; their sets are interval sets, their drops come before the bans. */
/** SSH bans kept from every port, and the recidive jail's all-ports bans before them. */
export const SCOPE = 'SERVICES=ssh web\nSERVICE_SSH_BAN_SCOPE=all\nRECIDIVE=yes';

export const BLOCKLISTS = 'IPV6=mirror\nBLOCKLIST_SPAMHAUS_URL=https://www.example.com/drop.txt\nBLOCKLIST_LOCAL_FILE=/etc/tsfirewall.d/blocked.txt\nBLOCKLIST_MAX_ENTRIES=131072';

export const CASES: Readonly<Record<string, () => Plan>> = {
  default: () => compile(config('', 'ipset'), SEED_HOST),
  'default-chain': () => compile(config('', 'chain'), SEED_HOST),
  rich: () => compile(config(RICH, 'ipset'), SEED_HOST),
  boot: () => compile(config('', 'ipset'), BOOT),
  blocklists: () => compile(config(BLOCKLISTS, 'ipset'), SEED_HOST),
  scope: () => compile(config(SCOPE, 'ipset'), SEED_HOST),
  'scope-chain': () => compile(config(SCOPE, 'chain'), SEED_HOST),
  snippets: () => compile(configWithSnippets('IPV6=mirror\nLOG_DROPPED=yes', SNIPPETS, 'nft'), SEED_HOST),
};

export const goldenFile = (name: string) => new URL(`./golden/${name}.nft`, import.meta.url);
