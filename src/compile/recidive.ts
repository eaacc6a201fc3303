/**
 * The recidive jail as one more banned "service": fail2ban's stock `recidive` filter reads fail2ban's own log and
 * bans a host that its other jails banned RECIDIVE_MAXRETRY times within RECIDIVE_FINDTIME, for RECIDIVE_BANTIME,
 * from every port. Made a ServiceConfig with no ports of its own, so the bans machinery (sets and chains, the jail
 * file, ban/unban/bans, saved bans) treats it as any jail, and compile gives it no accept rule.
 */
import type { Config, ServiceConfig } from '../config/types.js';

export const RECIDIVE = 'recidive';
export const RECIDIVE_BAN_NAME = 'RECIDIVE';

export function recidiveService(config: Pick<Config, 'recidive'>): ServiceConfig | undefined {
  const r = config.recidive;
  if (!r) return undefined;
  return {
    name: RECIDIVE, ports: [], protos: [], from: [], interfaces: [], bans: RECIDIVE_BAN_NAME, banScope: 'all',
    jail: { filter: RECIDIVE, maxretry: r.maxretry, findtime: r.findtime, bantime: r.bantime, logpath: r.logpath },
  };
}

/**
 * Every service whose bans the ruleset checks, the recidive jail first: its all-ports drop is the first ban rule,
 * ahead of the per-service ones it outlasts.
 */
export function bannedServices(config: Pick<Config, 'services' | 'recidive'>): ServiceConfig[] {
  const recidive = recidiveService(config);
  return [...(recidive ? [recidive] : []), ...config.services.filter((s) => s.bans !== undefined)];
}
