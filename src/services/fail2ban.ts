/**
 * The ban daemon's lifecycle as the seed's script drives it (`fail2ban-client -x start` after the rules,
 * `fail2ban-client stop` before the chains go), or through systemd when fail2ban.service is managed there, so the
 * two never fight. A missing or failing fail2ban never takes the firewall down with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail2banDir, writeFail2banConfig } from '../bans/files.js';
import type { Config } from '../config/types.js';
import type { FirewallBackend } from '../backend/types.js';
import { which } from '../exec/which.js';
import type { HostFacts } from '../discover/host.js';
import { run } from '../exec/run.js';
import type { CachedDaemon } from '../state/start-cache.js';

export type DaemonState = 'running' | 'stopped' | 'not-installed' | 'disabled';

const PID_FILE = '/run/fail2ban/fail2ban.pid';

/**
 * TSFIREWALL_FAIL2BAN_RUN (tests): a fail2ban of one's own, run by hand in a test namespace, with its socket and pid
 * file in that directory and its configuration in TSFIREWALL_FAIL2BAN_DIR; never the host's daemon, and never
 * through systemd.
 */
const privateRun = () => process.env.TSFIREWALL_FAIL2BAN_RUN || undefined;
const clientPath = (): string | undefined => which('fail2ban-client');
const pidFile = () => (privateRun() ? `${privateRun()}/fail2ban.pid` : PID_FILE);
const clientOptions = (): string[] => {
  const dir = privateRun();
  return dir ? ['-c', fail2banDir(), '-s', `${dir}/fail2ban.sock`, '-p', `${dir}/fail2ban.pid`] : [];
};

/** Cheap enough for `status`: a pid file and /proc, no Python start-up. */
export function daemonState(config: Pick<Config, 'fail2ban'>): DaemonState {
  if (config.fail2ban === 'no') return 'disabled';
  if (!clientPath()) return 'not-installed';
  try {
    const pid = readFileSync(pidFile(), 'utf8').trim();
    return /^\d+$/.test(pid) && existsSync(`/proc/${pid}`) ? 'running' : 'stopped';
  } catch {
    return 'stopped';
  }
}

const underSystemd = () => existsSync('/run/systemd/system');

async function systemdManages(): Promise<boolean> {
  if (privateRun() || !underSystemd() || !which('systemctl')) return false;
  const r = await run('systemctl', ['cat', 'fail2ban.service']);
  return r.exitCode === 0;
}

/**
 * fail2ban.service is ordered After=iptables.service, our alias, so a blocking `systemctl start fail2ban` waits
 * for any job of tsfirewall.service, and that job may be waiting for us: our own start or reload, or a start
 * retried while the address watcher's reload (or an admin's) holds the lock, which then gives up after 30 s.
 * Queueing instead lets the job finish and fail2ban follow it. From inside any of our units (the watcher
 * included) always queue: a job may begin between our look and our start.
 */
async function startWouldWaitOnUs(): Promise<boolean> {
  if (insideOwnUnits()) return true;
  const job = await run('systemctl', ['show', '-p', 'Job', '--value', 'tsfirewall.service']);
  return job.exitCode === 0 && job.stdout.trim() !== '';
}

function insideOwnUnits(): boolean {
  try { return /\/tsfirewall(-[a-z]+)?\.service$/m.test(readFileSync('/proc/self/cgroup', 'utf8')); } catch { return false; }
}

/** Runs fail2ban-client (argv only: jail names and addresses are validated before they get here). */
export function fail2banClient(args: readonly string[], timeoutMs = 30_000) {
  return run(clientPath() ?? 'fail2ban-client', [...clientOptions(), ...args], { timeoutMs });
}

/**
 * systemd starts fail2ban as Type=simple, so `systemctl start` succeeds even when the server then dies on a bad
 * jail, and the server answers on its socket while a separate thread is still reading the jails. So ask it
 * (bounded: 20 tries over ~10 s) until it lists every jail we wrote.
 */
async function waitUntilServing(jails: readonly string[]): Promise<string | undefined> {
  let last = 'the server did not answer';
  for (let i = 0; i < 20; i++) {
    const r = await fail2banClient(['status'], 5_000);
    const listed = /Jail list:\s*(.*)$/m.exec(r.stdout)?.[1]?.split(/[,\s]+/) ?? [];
    if (r.exitCode === 0 && jails.every((j) => listed.includes(j))) return undefined;
    last = r.exitCode === 0 ? `jails not running: ${jails.filter((j) => !listed.includes(j)).join(', ')}` : r.stderr.trim() || last;
    await sleep(500);
  }
  return last;
}

export interface StartOptions {
  /** start, reload, force-reload or restart: reload keeps the daemon (and its bans), start skips an unchanged one. */
  readonly verb: string;
  readonly host: HostFacts;
  readonly backend: FirewallBackend;
}

/** Writes our jail and actions, then starts or reloads the daemon. Returns a message for the user; throws nothing. */
/**
 * What start did about the daemon, and `replay`: what a cached start (state/start-cache.ts) may do instead, when it
 * can do the same without Node: nothing, or queue the unit's start. Anything else is left to a full start.
 */
export interface DaemonOutcome { readonly ok: boolean; readonly message: string; readonly warnings: readonly string[]; readonly replay?: CachedDaemon }

export async function startDaemon(config: Config, opts: StartOptions): Promise<DaemonOutcome> {
  const state = daemonState(config);
  if (state === 'disabled') return { ok: true, message: 'ban daemon disabled (FAIL2BAN=no)', warnings: [], replay: 'none' };
  if (state === 'not-installed') {
    return { ok: config.fail2ban !== 'yes', message: 'fail2ban is not installed: firewall is up, but no log-scanning bans (install fail2ban)', warnings: [], replay: 'none' };
  }
  let written;
  try {
    written = writeFail2banConfig(config, opts.host, opts.backend);
  } catch (err) {
    return { ok: false, message: `cannot write fail2ban's configuration (firewall is up, bans are not): ${(err as Error).message}`, warnings: [] };
  }
  const { warnings } = written;
  if (written.jails.length === 0 && state !== 'running') {
    return { ok: true, message: 'no service has a ban jail: fail2ban not started', warnings, replay: 'none' };
  }
  if (state === 'running') {
    if (opts.verb === 'start' && !written.changed) return { ok: true, message: 'fail2ban already running, configuration unchanged', warnings };
    // Unchanged jails keep their bans across a reload; the sets and chains were never touched.
    const r = await fail2banClient(['reload']);
    return r.exitCode === 0
      ? { ok: true, message: `fail2ban reloaded (jails: ${written.jails.join(', ') || 'none of ours'})`, warnings }
      : { ok: false, message: `fail2ban reload failed (firewall is up): ${r.stderr.trim() || r.stdout.trim() || r.spawnError}`, warnings };
  }
  const viaSystemd = await systemdManages();
  if (viaSystemd && (await startWouldWaitOnUs())) {
    const queued = await run('systemctl', ['--no-block', 'start', 'fail2ban.service']);
    return queued.exitCode === 0
      ? { ok: true, message: `fail2ban start queued; it runs once the rules are in (jails: ${written.jails.join(', ')})`, warnings, replay: 'queue-fail2ban' }
      : { ok: false, message: `cannot queue fail2ban's start (firewall is up, bans are not): ${queued.stderr.trim() || queued.spawnError}`, warnings };
  }
  const result = viaSystemd ? await run('systemctl', ['start', 'fail2ban.service']) : await fail2banClient(['-x', 'start'], 60_000);
  const failure = result.exitCode !== 0 ? (result.stderr.trim() || result.stdout.trim() || result.spawnError) : viaSystemd ? await waitUntilServing(written.jails) : undefined;
  return failure === undefined
    ? { ok: true, message: `fail2ban started (jails: ${written.jails.join(', ')})`, warnings }
    : { ok: false, message: `fail2ban failed to start (firewall is up, bans are not): ${failure}`, warnings };
}

export async function stopDaemon(config: Config): Promise<void> {
  if (daemonState(config) !== 'running') return;
  const active = (await systemdManages()) && (await run('systemctl', ['is-active', '--quiet', 'fail2ban.service'])).exitCode === 0;
  if (active) await run('systemctl', ['stop', 'fail2ban.service']);
  else await fail2banClient(['stop']);
}

/** What fail2ban counts for one jail since its server started: the ban verbs' tally leaves these to it. */
export interface JailStats { readonly failed: number; readonly currentlyBanned: number; readonly totalBanned: number }

/** Pure: `fail2ban-client status JAIL`'s figures, or undefined when the text is not a jail's status. */
export function parseJailStatus(text: string): JailStats | undefined {
  const figure = (label: string) => {
    const m = new RegExp(`${label}:\\s*(\\d+)`).exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const [failed, currentlyBanned, totalBanned] = ['Total failed', 'Currently banned', 'Total banned'].map(figure);
  if (failed === undefined || currentlyBanned === undefined || totalBanned === undefined) return undefined;
  return { failed, currentlyBanned, totalBanned };
}

/** The running daemon's figures per jail (one client call each, beside each other); a jail it does not run is left out. */
export async function jailStats(jails: readonly string[]): Promise<ReadonlyMap<string, JailStats>> {
  const answers = await Promise.all(jails.map(async (jail) => {
    const r = await fail2banClient(['status', jail], 10_000);
    return [jail, r.exitCode === 0 ? parseJailStatus(r.stdout) : undefined] as const;
  }));
  return new Map(answers.filter((a): a is readonly [string, JailStats] => a[1] !== undefined));
}
