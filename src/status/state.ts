/**
 * The one word that sums up the firewall, as status's first line and metrics both say it: the order of the checks
 * is the meaning (a ruleset changed from outside is "tampered" whatever else holds).
 */
import type { LiveState } from '../backend/types.js';
import type { Config } from '../config/types.js';
import type { DaemonState } from '../services/fail2ban.js';

export const STATES = ['running', 'early', 'degraded', 'tampered', 'stopped'] as const;
export type FirewallState = (typeof STATES)[number];

export interface StateFacts {
  readonly live: Pick<LiveState, 'loaded' | 'boot'>;
  readonly problems: readonly string[];
  readonly daemon: DaemonState;
  readonly fail2ban: Config['fail2ban'];
  readonly jails: number;
}

/** degraded: the rules are up but the ban daemon that should fill their ban sets is not. */
export function stateOf(f: StateFacts): FirewallState {
  if (f.problems.length > 0) return 'tampered';
  if (!f.live.loaded) return 'stopped';
  if (f.live.boot) return 'early';
  return f.daemon === 'stopped' && f.fail2ban !== 'no' && f.jails > 0 ? 'degraded' : 'running';
}
