/**
 * What the verbs do to keep bans across stop, start and time, in one place so that each verb calls one function:
 * stop saves, start restores and lifts expired chain bans, the ban verbs lift before they act. None of it may fail
 * a verb: the firewall's state matters more than a ban's, so every failure here is a warning.
 */
import type { FirewallBackend } from '../backend/types.js';
import type { Config } from '../config/types.js';
import { log } from '../log.js';
import { liftExpiredChainBans } from './expiry.js';
import { jailsOf, type JailSpec } from './jails.js';
import { collectBans, restoreBans, saveBans } from './saved.js';

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** stop, after the ban daemon stopped (its own chain bans are in its database) and before the sets go. */
export async function saveBeforeStop(backend: FirewallBackend, config: Config): Promise<string | undefined> {
  try {
    const bans = await collectBans(backend, jailsOf(config));
    saveBans(bans);
    return bans.length === 0 ? undefined : `${plural(bans.length, 'ban')} saved for the next start`;
  } catch (err) {
    log.warn(`bans not saved, so the next start will not restore them: ${(err as Error).message}`);
    return undefined;
  }
}

/** start/reload/restart, once the ruleset (and so every ban set and chain) is loaded: the result line, if any. */
export async function restoreAfterStart(backend: FirewallBackend, config: Config): Promise<string | undefined> {
  const jails = jailsOf(config);
  if (jails.length === 0) return undefined;
  try {
    const restored = await restoreBans(backend, jails);
    if (restored.warning) log.warn(restored.warning);
    await liftExpired(backend, jails);
    return restored.message;
  } catch (err) {
    log.warn(`saved bans not restored: ${(err as Error).message}`);
    return undefined;
  }
}

/** Before a ban verb lists or changes bans: chain-mode direct bans whose time is over go, as fail2ban's would. */
export async function liftExpired(backend: FirewallBackend, jails: readonly JailSpec[]): Promise<void> {
  try {
    const lifted = await liftExpiredChainBans(backend, jails);
    if (lifted > 0) log.info(`lifted ${plural(lifted, 'expired chain-mode ban')} (their ban time is over)`);
  } catch (err) {
    log.warn(`could not lift expired chain-mode bans: ${(err as Error).message}`);
  }
}
