/**
 * One read of everything metrics reports, the way status reads it (the same backend reads, the same judgement of
 * the loaded rules), plus what only metrics wants: the last apply's outcome, the ban tallies, fail2ban's per-jail
 * figures and the fleet status file. Reads only: nothing is locked or changed, so the timer can run it at any time.
 */
import { holdersBesides } from '../apply/switch.js';
import { detectBackend } from '../backend/choose.js';
import { banCounts, setsToCount } from '../bans/counts.js';
import { jailsOf } from '../bans/jails.js';
import { readTally } from '../bans/tally.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { resolveHostChoices } from '../discover/choices.js';
import { log } from '../log.js';
import { daemonState, jailStats } from '../services/fail2ban.js';
import { readLastApply } from '../state/last-apply.js';
import type { Drift } from '../state/loaded.js';
import { currentDrift } from '../status/drift.js';
import { applyInProgress, problemsOf } from '../status/intact.js';
import { stateOf } from '../status/state.js';
import { VERSION } from '../version.js';
import type { MetricsInput } from './families.js';
import { readFleetStatus } from './fleet.js';

/** Enough to read the kernel when the config cannot be used (status's fallback). */
const FALLBACK: Pick<Config, 'backend' | 'ipv6' | 'fail2ban'> = { backend: 'auto', ipv6: 'drop', fail2ban: 'auto' };

export async function sampleMetrics(configPath?: string): Promise<MetricsInput> {
  let loaded: Config | undefined;
  try {
    loaded = loadConfig(configPath).config;
  } catch (err) {
    log.warn(`config unusable (${(err as Error).message.split('\n')[0]}); reporting the kernel's rules anyway`);
  }
  const backend = await detectBackend((loaded ?? FALLBACK).backend);
  const full = loaded && resolveHostChoices(loaded, backend.name);
  const config = full ?? FALLBACK;
  const jails = full ? jailsOf(full) : [];
  const daemon = daemonState(config);
  const [drift, ownLive, ownLimiter, fail2ban] = await Promise.all([
    full ? currentDrift(full) : Promise.resolve(undefined),
    backend.readLive(['ipv4', 'ipv6'], setsToCount(jails)),
    backend.readLimiter(),
    daemon === 'running' ? jailStats(jails.map((j) => j.jail)) : Promise.resolve(new Map()),
  ]);
  // As status: rules another backend of ours loaded are the firewall until a reload moves them.
  const holder = ownLive.loaded ? undefined : (await holdersBesides(backend.name, { sets: setsToCount(jails) }))[0];
  const shown = holder?.backend ?? backend;
  const live = holder?.live ?? ownLive;
  const problems = applyInProgress() ? [] : problemsOf(shown, live);
  // status's "pending:": only a complete ruleset can be out of date (the boot-time one differs by design).
  const pending: Drift | undefined = holder ? { reason: 'backend', loadedBy: holder.backend.label, now: backend.label }
    : live.loaded && !live.boot ? drift : undefined;
  return {
    version: VERSION,
    backend: shown.name,
    state: stateOf({ live, problems, daemon, fail2ban: config.fail2ban, jails: jails.length }),
    live,
    problems,
    ...optional('drift', pending),
    bans: banCounts(jails, live.families, live.setCounts),
    limiter: holder ? await holder.backend.readLimiter() : ownLimiter,
    tally: readTally(),
    daemon,
    fail2ban,
    ...optional('lastApply', readLastApply()),
    ...optional('fleet', readFleetStatus()),
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : { [key]: value } as Record<K, V>);
