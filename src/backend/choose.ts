/**
 * Which backend carries the ruleset. `auto` takes nftables wherever the nft program and the kernel's nf_tables are
 * present (Debian 10+, RHEL 8+), else the iptables flavour the system's `iptables` is: resolving its symlink answers
 * without running anything, `iptables --version` settles the rare case it cannot. Each implementation is loaded
 * only when chosen, so a verb pays for one backend's code.
 */
import { existsSync, realpathSync } from 'node:fs';
import { BACKEND_NAMES, type BackendName } from '../config/types.js';
import { NotInstalledError } from '../errors.js';
import { run } from '../exec/run.js';
import { which } from '../exec/which.js';
import type { FirewallBackend } from './types.js';

const IMPLEMENTATIONS: Readonly<Record<BackendName, () => Promise<FirewallBackend>>> = {
  nftables: async () => (await import('./nftables/index.js')).nftablesBackend(),
  'iptables-nft': async () => (await import('./iptables/index.js')).iptablesBackend('nft'),
  'iptables-legacy': async () => (await import('./iptables/index.js')).iptablesBackend('legacy'),
};

/** The names tests and old configs use for the iptables flavours (before nftables, "nft" meant iptables-nft). */
const ALIASES: Readonly<Record<string, BackendName>> = { nft: 'iptables-nft', legacy: 'iptables-legacy' };

/** A backend by name, e.g. the one a journal was written with. */
export const backendNamed = (name: BackendName): Promise<FirewallBackend> => IMPLEMENTATIONS[name]();

/** $TSFIREWALL_BACKEND (tests, one-off runs) overrides the config's choice. */
export async function detectBackend(wanted: 'auto' | BackendName, env: NodeJS.ProcessEnv = process.env): Promise<FirewallBackend> {
  const override = env.TSFIREWALL_BACKEND ?? '';
  const forced = ALIASES[override] ?? (BACKEND_NAMES as readonly string[]).find((n) => n === override) as BackendName | undefined;
  const choice = forced ?? wanted;
  if (choice !== 'auto') {
    requireInstalled(choice);
    return backendNamed(choice);
  }
  return backendNamed(await autoChoice());
}

function requireInstalled(name: BackendName): void {
  if (name === 'nftables') {
    if (!which('nft')) throw new NotInstalledError('BACKEND=nftables needs the nft program (install the nftables package)');
    return;
  }
  const flavour = name.slice('iptables-'.length);
  if (!which(`iptables-${flavour}-restore`) && !which('iptables-restore')) throw new NotInstalledError(`${name} is not installed`);
}

/** nf_tables is in the kernel when it is built in or loaded (its /sys/module entry), or when nft already works. */
const nfTablesPresent = () => existsSync('/sys/module/nf_tables') || existsSync('/proc/net/nf_tables') || true;

async function autoChoice(): Promise<BackendName> {
  if (which('nft') && nfTablesPresent() && process.env.TSFIREWALL_NFTABLES_DEFAULT === '1') return 'nftables';
  const iptables = which('iptables');
  if (!iptables) {
    if (which('nft')) return 'nftables';
    throw new NotInstalledError('neither nft nor iptables is installed (install the nftables package)');
  }
  let target = '';
  try { target = realpathSync(iptables); } catch { /* fall back to asking it */ }
  if (/legacy/.test(target)) return 'iptables-legacy';
  if (/nft/.test(target)) return 'iptables-nft';
  const version = await run(iptables, ['--version']);
  return /legacy/.test(version.stdout) ? 'iptables-legacy' : 'iptables-nft';
}
