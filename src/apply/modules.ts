/**
 * Kernel modules the ruleset relies on (FTP connection tracking, NAT). Kernels without /lib/modules have them
 * built in, and then /sys/module/<name> exists and modprobe would only fail; a missing module is a warning,
 * not a failure, as the seed's script carried on too.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { run } from '../exec/run.js';
import { which } from '../exec/which.js';

/** Old and new names of the same module, so either spelling in MODULES works on old and new kernels. */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  nf_conntrack_ftp: ['nf_conntrack_ftp', 'ip_conntrack_ftp'],
  ip_conntrack_ftp: ['nf_conntrack_ftp', 'ip_conntrack_ftp'],
  nf_nat: ['nf_nat', 'ip_nat', 'iptable_nat'],
  ip_nat: ['nf_nat', 'ip_nat', 'iptable_nat'],
};

export async function loadModules(
  modules: readonly string[],
  roots = { sys: '/sys/module', lib: `/lib/modules/${release()}` },
): Promise<string[]> {
  const warnings: string[] = [];
  const missing = modules.filter((m) => !(ALIASES[m] ?? [m]).some((name) => existsSync(`${roots.sys}/${name}`)));
  // A kernel with no module tree is monolithic: what it has is built in (and may lack a /sys/module entry
  // when it has no parameters), and modprobe can only fail.
  if (missing.length === 0 || !existsSync(roots.lib)) return warnings;
  const modprobe = which('modprobe');
  for (const module of missing) {
    if (!modprobe) {
      warnings.push(`module ${module} is not loaded and modprobe is not installed; carrying on without it`);
      continue;
    }
    let loaded = false;
    for (const name of ALIASES[module] ?? [module]) {
      // "--": whatever the name, modprobe reads it as a module, never as an option.
      if ((await run(modprobe, ['-q', '--', name])).exitCode === 0) { loaded = true; break; }
    }
    if (!loaded) warnings.push(`module ${module} could not be loaded (modprobe failed); carrying on without it`);
  }
  return warnings;
}
