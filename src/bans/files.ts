/**
 * Writes tsfirewall's fail2ban files under /etc/fail2ban (TSFIREWALL_FAIL2BAN_DIR for tests). Each file is written
 * to a temporary name and renamed over the old one, so fail2ban never reads half a file, and only when its text
 * changed, so `start` can skip reloading an unchanged daemon.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/types.js';
import type { FirewallBackend } from '../backend/types.js';
import type { HostFacts } from '../discover/host.js';
import { JAIL_FILE, ignoreList, jailFile, type LogSource } from './conf.js';
import { jailsOf, type JailSpec } from './jails.js';
import { ensureLogFile, type LogFileOptions } from './logfile.js';
import { chooseLogSource, probeLogs, type LogProbe } from './logsource.js';
import { adminSources } from '../safety/admin.js';
import { stateDir } from '../state/dirs.js';
import { ensureOutbox, fail2banFleetAction, FLEET_ACTION } from './outbox.js';
import { adminSessions, liveSessions } from '../safety/sessions.js';

export const fail2banDir = () => process.env.TSFIREWALL_FAIL2BAN_DIR || '/etc/fail2ban';

/**
 * Every action file any backend has written: a host that switches backend, or stops having jails, must not keep
 * an old one around (fail2ban would still read it).
 */
export const OUR_ACTIONS = ['tsfirewall-ipset', 'tsfirewall-chain', 'tsfirewall-nftables', FLEET_ACTION] as const;

export const ourFiles = (dir: string) => ({
  jail: join(dir, 'jail.d', `${JAIL_FILE}.conf`),
  action: (name: string) => join(dir, 'action.d', `${name}.conf`),
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

const liveAdmins = () => adminSessions(liveSessions()).map((s) => s.client);

/** Writes (or, with no jails, removes) our files; never touches the admin's jail.local or the stock files. */
export function writeFail2banConfig(
  config: Config, host: HostFacts, backend: FirewallBackend, dir = fail2banDir(), probe?: LogProbe,
  logFiles: Omit<LogFileOptions, 'fail2banDir'> = {},
): WrittenConfig {
  const files = ourFiles(dir);
  const jails = config.fail2ban === 'no' ? [] : jailsOf(config);
  if (jails.length === 0) {
    const removed = [files.jail, ...OUR_ACTIONS.map(files.action)].map(removeIfPresent).some(Boolean);
    return { changed: removed, jails: [], warnings: [] };
  }
  const logs = probe ?? probeLogs(dir);
  const warnings: string[] = [];
  const logSources = new Map<string, LogSource>();
  for (const j of jails) {
    const chosen = chooseLogSource(j.service.name, j.service.jail, logs);
    const file = chosen.source && ensureLogFile(j.service.name, chosen.source, { fail2banDir: dir, ...logFiles });
    warnings.push(...chosen.warnings, ...(file?.warnings ?? []));
    if (file?.source) logSources.set(j.jail, file.source);
  }
  const backendActions = backend.fail2banActions({ ipv6: config.ipv6 === 'mirror', source: config.source });
  let fleet: ReturnType<typeof fleetActions> = { files: new Map(), shares: () => false };
  try { fleet = fleetActions(config); } catch (err) { warnings.push(`fleet: ${(err as Error).message}`); }
  const actions = {
    files: new Map([...backendActions.files, ...fleet.files]),
    action: (j: JailSpec, ipsettime: string) => [backendActions.action(j, ipsettime), ...(fleet.shares(j) ? [`${FLEET_ACTION}[service=${j.service.name}]`] : [])].join('\n           '),
  };
  const texts: [string, string][] = [
    ...[...actions.files].map(([name, text]): [string, string] => [files.action(name), text]),
    // The jail last: it names the actions, which must be in place when fail2ban reads it.
    // The admin's own addresses (this SSH session, every logged-in one the kernel holds, recent ones) are never
    // banned, whatever the trust settings.
    [files.jail, jailFile({ jails, action: actions.action, ignoreip: [...new Set([...ignoreList(config, host), ...liveAdmins(), ...adminSources()])], logSources, source: config.source })],
  ];
  // Another backend's actions, left from before a switch: no jail names them any more.
  const stale = OUR_ACTIONS.filter((name) => !actions.files.has(name)).map((name) => removeIfPresent(files.action(name)));
  const changed = [...texts.map(([path, text]) => writeIfChanged(path, text)), ...stale].some(Boolean);
  return { changed, jails: jails.filter((j) => logSources.has(j.jail)).map((j) => j.jail), warnings };
}

/**
 * With a fleet, each shared jail gets a second action that queues its bans and unbans in the outbox for the fleet
 * service to publish (docs/fleet.md): the ban itself stays the backend's action, which never waits on the fleet.
 */
function fleetActions(config: Config): { files: Map<string, string>; shares: (j: JailSpec) => boolean } {
  const fleet = config.fleet;
  if (!fleet) return { files: new Map(), shares: () => false };
  const dir = ensureOutbox(stateDir());
  // The path goes into a shell command line of fail2ban's: only characters no shell or fail2ban reads specially.
  if (!/^\/[A-Za-z0-9_.\/+-]+$/.test(dir)) throw new Error(`the state directory ${dir} has characters fail2ban's action cannot carry; fleet bans from fail2ban are off`);
  return {
    files: new Map([[FLEET_ACTION, fail2banFleetAction({ dir, source: config.source })]]),
    shares: (j) => fleet.jails === 'all' || fleet.jails.includes(j.service.name),
  };
}
