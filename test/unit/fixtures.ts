/** Shared inputs for the pure-part tests: the seed's host (one address on eth0) as discovery would report it. */
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { HostFacts } from '../../src/discover/host.js';

export const SEED_HOST = { iface: 'eth0', myip: '192.0.2.10', prefix: 24, myip6: ['2001:db8::10'], warnings: [] } satisfies HostFacts;

/** Parses config text and settles BAN_MODE the way the CLI does on a host with ipset installed. */
export function config(text = '', banMode: 'ipset' | 'chain' = 'ipset'): Config {
  const c = parseConfig(text).config;
  return { ...c, banMode: c.banMode === 'auto' ? banMode : c.banMode };
}

/** ipset v7.17's `list -t`, verbatim apart from the initval: one set of ours, one from an older build. */
export const IPSET_LISTING = [
  'Name: f2b-SSH',
  'Type: hash:ip',
  'Revision: 6',
  'Header: family inet hashsize 4096 maxelem 262144 timeout 0 bucketsize 12 initval 0x1',
  'Size in memory: 200',
  'References: 1',
  'Number of entries: 3',
  '',
  'Name: f2b-old',
  'Type: hash:ip',
  'Revision: 6',
  'Header: family inet hashsize 1024 maxelem 1024 bucketsize 12 initval 0x2',
  'Size in memory: 256',
  'References: 0',
  'Number of entries: 1',
  '',
].join('\n');
