/**
 * Make running Postfix pick up the new main.cf. smtpd processes live on (max_use, max_idle) with the old settings
 * until the master is told to reload, so an edit without a reload would leave the harvest leak open for a while.
 * Under systemd the unit is reloaded (so systemd's view stays right); otherwise postfix(1) is asked directly.
 */
import { existsSync } from 'node:fs';
import { which } from '../exec/which.js';
import { TsfwError } from '../errors.js';
import { run } from '../exec/run.js';

export type ReloadOutcome = 'systemd' | 'postfix' | 'not-running';

export async function reloadPostfix(postfix: string): Promise<ReloadOutcome> {
  const systemctl = existsSync('/run/systemd/system') ? which('systemctl') : undefined;
  if (systemctl && (await run(systemctl, ['is-active', '--quiet', 'postfix.service'], { timeoutMs: 15_000 })).exitCode === 0) {
    const r = await run(systemctl, ['reload', 'postfix.service'], { timeoutMs: 60_000 });
    if (r.exitCode === 0) return 'systemd';
    // Fall through: postfix(1) can still reload a master that systemd does not track.
  }
  if ((await run(postfix, ['status'], { timeoutMs: 15_000 })).exitCode !== 0) return 'not-running';
  const r = await run(postfix, ['reload'], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new TsfwError(`postfix reload failed: ${(r.spawnError ?? r.stderr).trim()}`, 1);
  return 'postfix';
}

export const RELOAD_MESSAGE: Readonly<Record<ReloadOutcome, string>> = {
  systemd: 'Postfix reloaded (systemctl reload postfix)',
  postfix: 'Postfix reloaded (postfix reload)',
  'not-running': 'Postfix is not running; the change takes effect when it starts',
};
