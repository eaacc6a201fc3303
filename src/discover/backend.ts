/**
 * Which iptables the system uses: the nf_tables flavour or the legacy one. Both ship on Debian and RHEL and the
 * rules must go where `iptables -L` (and fail2ban's own actions) will look. Resolving the `iptables` symlink
 * answers without running anything; `iptables --version` settles the rare case it cannot.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Family } from '../model.js';
import { NotInstalledError } from '../errors.js';
import { run } from '../exec/run.js';

export type BackendName = 'nft' | 'legacy';

export interface Backend {
  readonly name: BackendName;
  readonly save: Readonly<Record<Family, string>>;
  readonly restore: Readonly<Record<Family, string>>;
  /** Plain `iptables`/`ip6tables` of the same flavour, for per-command fallbacks. */
  readonly cli: Readonly<Record<Family, string>>;
}

/** Programs are looked up on PATH (plus the sbin dirs), so tests can put fake binaries first. */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin', '/usr/bin']) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* next */ }
  }
  return undefined;
}

export function backendFor(name: BackendName): Backend {
  const flavour = (base: string) => {
    const specific = `${base}-${name}`;
    return which(specific) ? specific : base;
  };
  return {
    name,
    save: { ipv4: flavour('iptables') + '-save', ipv6: flavour('ip6tables') + '-save' },
    restore: { ipv4: flavour('iptables') + '-restore', ipv6: flavour('ip6tables') + '-restore' },
    cli: { ipv4: flavour('iptables'), ipv6: flavour('ip6tables') },
  };
}

export async function detectBackend(wanted: 'auto' | BackendName): Promise<Backend> {
  const override = process.env.TSFIREWALL_BACKEND;
  const choice = override === 'nft' || override === 'legacy' ? override : wanted;
  if (choice !== 'auto') {
    if (!which(`iptables-${choice}-restore`) && !which('iptables-restore')) {
      throw new NotInstalledError(`iptables-${choice} is not installed`);
    }
    return backendFor(choice);
  }
  const iptables = which('iptables');
  if (!iptables) throw new NotInstalledError('iptables is not installed (install the iptables package)');
  let target = '';
  try { target = realpathSync(iptables); } catch { /* fall back to asking it */ }
  if (/legacy/.test(target)) return backendFor('legacy');
  if (/nft/.test(target)) return backendFor('nft');
  const version = await run(iptables, ['--version']);
  return backendFor(/legacy/.test(version.stdout) ? 'legacy' : 'nft');
}
