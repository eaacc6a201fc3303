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
  // Raw snippets are in one tool's language: the backend's own is the one its document can hold.
  const settled: Config = { ...config, snippetSyntax: backend === 'nftables' ? 'nft' : 'iptables' };
  if (backend === 'nftables') return settled.banMode === 'ipset' ? settled : { ...settled, banMode: 'ipset' };
  if (config.banMode !== 'auto') return settled;
  return { ...settled, banMode: which('ipset') ? 'ipset' : 'chain' };
}
