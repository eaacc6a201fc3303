/**
 * Which backend carries the ruleset. `auto` takes nftables wherever the nft program and the kernel's nf_tables are
 * present (Debian 10+, RHEL 8+), else the iptables flavour the system's `iptables` is: resolving its symlink answers
 * without running anything, `iptables --version` settles the rare case it cannot. Each implementation is loaded
 * only when chosen, so a verb pays for one backend's code.
 */
import { realpathSync } from 'node:fs';
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

/**
 * nft installed means nftables: every kernel a supported distro ships has nf_tables (built in, as here, where
 * /sys/module has no entry for it, or as a module the kernel loads on first use), so nothing is probed on the hot
 * path; a kernel without it fails the first load with nft's own message.
 */
async function autoChoice(): Promise<BackendName> {
  if (which('nft')) return 'nftables';
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
