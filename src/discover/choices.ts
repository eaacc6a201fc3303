/**
 * The "auto" config choices that depend on what is installed, settled before compile so compile stays a pure
 * function of config and host facts.
 */
import type { BackendName } from '../backend/types.js';
import type { Config } from '../config/types.js';
import { which } from '../exec/which.js';

/**
 * BAN_MODE=auto is an ipset where ipset is installed, else the seed's chain. On nftables every ban lives in a set
 * of our own table, whatever BAN_MODE says: the chain form exists for iptables without ipset.
 */
export function resolveHostChoices(config: Config, backend: BackendName): Config {
  if (backend === 'nftables') return config.banMode === 'ipset' ? config : { ...config, banMode: 'ipset' };
  if (config.banMode !== 'auto') return config;
  return { ...config, banMode: which('ipset') ? 'ipset' : 'chain' };
}
