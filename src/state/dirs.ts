/**
 * Where tsfirewall keeps things. The run directory (tmpfs, emptied at boot) holds what only matters while the
 * kernel's current ruleset does: the verb lock, the apply journal, the confirm handshake. The state directory holds
 * what must survive a reboot. Both can be moved by environment variables, which is how tests stay out of /run.
 */
import { readlinkSync } from 'node:fs';

export const runDir = (env: NodeJS.ProcessEnv = process.env) => env.TSFIREWALL_RUN_DIR || '/run/tsfirewall';
export const stateDir = (env: NodeJS.ProcessEnv = process.env) => env.TSFIREWALL_STATE_DIR || '/var/lib/tsfirewall';

/**
 * A name for this process's network namespace ("net-4026531840"). Rulesets are per namespace but /run is not, so
 * the lock and the journal carry it: an apply interrupted in one namespace is never "recovered" into another.
 */
export function netnsTag(): string {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'));
    if (m) return `net-${m[1]}`;
  } catch { /* no /proc: one namespace is all we can tell apart */ }
  return 'net-default';
}
