/**
 * The ban verbs' side of the fleet: after the kernel (or fail2ban) has the ban, queue it for the fleet service to
 * publish. A no-op without a fleet or for a jail that is not shared; never throws and never waits on anything but
 * one small file, since a local ban must work whatever the engine or the service is doing.
 */
import type { JailSpec } from '../../bans/jails.js';
import type { Config } from '../../config/types.js';
import { log } from '../../log.js';
import { stateDir } from '../../state/dirs.js';
import { queueLines, OUTBOX_MAX, type OutboxLine } from '../../bans/outbox.js';

export const isShared = (config: Config, jail: JailSpec) =>
  config.fleet !== undefined && (config.fleet.jails === 'all' || config.fleet.jails.includes(jail.service.name));

export function queueForFleet(config: Config, jail: JailSpec, op: OutboxLine['op'], ips: readonly string[], reason: string, bantime?: number, now = Date.now()): void {
  if (!isShared(config, jail) || ips.length === 0) return;
  const at = now / 1000;
  const lines = ips.map((ip): OutboxLine => ({ op, jail: jail.service.name, ip, at, ...(bantime === undefined ? {} : { bantime }), reason }));
  try {
    if (!queueLines(stateDir(), lines, now)) log.warn(`fleet: the outbox is full (${OUTBOX_MAX} files waiting: is tsfirewall-fleet running and the engine reachable?); this ${op} is not shared`);
  } catch (err) {
    log.warn(`fleet: could not queue the ${op} for the fleet: ${(err as Error).message}`);
  }
}
