/** Shared inputs for the pure-part tests: the seed's host (one address on eth0) as discovery would report it. */
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { HostFacts } from '../../src/discover/host.js';

export const SEED_HOST: HostFacts = { iface: 'eth0', myip: '192.0.2.10', prefix: 24, myip6: ['2001:db8::10'], warnings: [] };

/** Parses config text and settles BAN_MODE the way the CLI does on a host with ipset installed. */
export function config(text = '', banMode: 'ipset' | 'chain' = 'ipset'): Config {
  const c = parseConfig(text).config;
  return { ...c, banMode: c.banMode === 'auto' ? banMode : c.banMode };
}
