/**
 * The ban daemon's lifecycle as the seed's script drives it (`fail2ban-client -x start` after the rules,
 * `fail2ban-client stop` before the chains go), or through systemd when fail2ban.service is managed there, so the
 * two never fight. A missing or failing fail2ban never takes the firewall down with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { which } from '../discover/backend.js';
import { run } from '../exec/run.js';

export type DaemonState = 'running' | 'stopped' | 'not-installed' | 'disabled';

const PID_FILE = '/run/fail2ban/fail2ban.pid';

/** Cheap enough for `status`: a pid file and /proc, no Python start-up. */
export function daemonState(config: Pick<Config, 'fail2ban'>): DaemonState {
  if (config.fail2ban === 'no') return 'disabled';
  if (!which('fail2ban-client')) return 'not-installed';
  try {
    const pid = readFileSync(PID_FILE, 'utf8').trim();
    return /^\d+$/.test(pid) && existsSync(`/proc/${pid}`) ? 'running' : 'stopped';
  } catch {
    return 'stopped';
  }
}

const underSystemd = () => existsSync('/run/systemd/system');

async function systemdManages(): Promise<boolean> {
  if (!underSystemd() || !which('systemctl')) return false;
  const r = await run('systemctl', ['cat', 'fail2ban.service']);
  return r.exitCode === 0;
}

/** Returns a message for the user; throws nothing. */
export async function startDaemon(config: Config): Promise<{ ok: boolean; message: string }> {
  const state = daemonState(config);
  if (state === 'disabled') return { ok: true, message: 'ban daemon disabled (FAIL2BAN=no)' };
  if (state === 'not-installed') {
    return { ok: config.fail2ban !== 'yes', message: 'fail2ban is not installed: firewall is up, but no log-scanning bans (install fail2ban)' };
  }
  const client = which('fail2ban-client')!;
  const result = (await systemdManages())
    ? await run('systemctl', ['restart', 'fail2ban.service'])
    : state === 'running'
      ? await run(client, ['reload'])
      : await run(client, ['-x', 'start']);
  return result.exitCode === 0
    ? { ok: true, message: 'fail2ban started' }
    : { ok: false, message: `fail2ban failed to start (firewall is up, bans are not): ${result.stderr.trim() || result.spawnError}` };
}

export async function stopDaemon(config: Config): Promise<void> {
  if (daemonState(config) !== 'running') return;
  if (await systemdManages()) await run('systemctl', ['stop', 'fail2ban.service']);
  else await run(which('fail2ban-client')!, ['stop']);
}
