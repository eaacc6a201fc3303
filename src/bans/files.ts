/**
 * Writes tsfirewall's fail2ban files under /etc/fail2ban (TSFIREWALL_FAIL2BAN_DIR for tests). Each file is written
 * to a temporary name and renamed over the old one, so fail2ban never reads half a file, and only when its text
 * changed, so `start` can skip reloading an unchanged daemon.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/types.js';
import { which, type Backend } from '../discover/backend.js';
import type { HostFacts } from '../discover/host.js';
import { ACTION_NAMES, JAIL_FILE, chainAction, ignoreList, ipsetAction, jailFile, type LogSource } from './conf.js';
import { jailsOf } from './jails.js';
import { chooseLogSource, probeLogs, type LogProbe } from './logsource.js';
import { adminSources } from '../safety/admin.js';

export const fail2banDir = () => process.env.TSFIREWALL_FAIL2BAN_DIR || '/etc/fail2ban';

export const ourFiles = (dir: string) => ({
  jail: join(dir, 'jail.d', `${JAIL_FILE}.conf`),
  ipset: join(dir, 'action.d', `${ACTION_NAMES.ipset}.conf`),
  chain: join(dir, 'action.d', `${ACTION_NAMES.chain}.conf`),
});

/** True when the file now holds `text` and did not before. */
export function writeIfChanged(path: string, text: string): boolean {
  try {
    if (readFileSync(path, 'utf8') === text) return false;
  } catch { /* absent: write it */ }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tsfw-${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return true;
}

function removeIfPresent(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}

export interface WrittenConfig {
  readonly changed: boolean;
  /** Jails written (the ones whose filter and log source exist). */
  readonly jails: readonly string[];
  readonly warnings: readonly string[];
}

const abs = (program: string) => which(program) ?? program;

/** Writes (or, with no jails, removes) our files; never touches the admin's jail.local or the stock files. */
export function writeFail2banConfig(config: Config, host: HostFacts, backend: Backend, dir = fail2banDir(), probe?: LogProbe): WrittenConfig {
  const files = ourFiles(dir);
  const jails = config.fail2ban === 'no' ? [] : jailsOf(config);
  if (jails.length === 0) {
    const removed = [files.jail, files.ipset, files.chain].map(removeIfPresent).some(Boolean);
    return { changed: removed, jails: [], warnings: [] };
  }
  const logs = probe ?? probeLogs(dir);
  const warnings: string[] = [];
  const logSources = new Map<string, LogSource>();
  for (const j of jails) {
    const chosen = chooseLogSource(j.service.name, j.service.jail, logs);
    warnings.push(...chosen.warnings);
    if (chosen.source) logSources.set(j.jail, chosen.source);
  }
  const mirror = config.ipv6 === 'mirror';
  const texts: [string, string][] = [
    [files.ipset, ipsetAction({ ipset: abs('ipset'), ipv6: mirror, source: config.source })],
    [files.chain, chainAction({ iptables: abs(backend.cli.ipv4), ip6tables: mirror ? abs(backend.cli.ipv6) : undefined, source: config.source })],
    // The jail last: it names the actions, which must be in place when fail2ban reads it.
    // The admin's own addresses (this SSH session and recent ones) are never banned, whatever the trust settings.
    [files.jail, jailFile({ jails, ignoreip: [...new Set([...ignoreList(config, host), ...adminSources()])], logSources, source: config.source })],
  ];
  const changed = texts.map(([path, text]) => writeIfChanged(path, text)).some(Boolean);
  return { changed, jails: jails.filter((j) => logSources.has(j.jail)).map((j) => j.jail), warnings };
}
