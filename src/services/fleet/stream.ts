/**
 * The one stream the fleet shares, made by the first host that finds it missing (or beforehand by an admin, with
 * the same settings: docs/fleet.md). One message per subject, and a subject per (origin, jail, address), makes it
 * the table of active bans that catch-up replays; its age limit covers the longest ban, so what an unban or an
 * expiry left behind ages out on its own.
 */
import type { NatsConnection, StreamConfig } from 'nats';
import type { FleetConfig } from '../../config/types.js';
import { log } from '../../log.js';
import { loadNats } from './connect.js';
import { STREAM, SUBJECT_ROOT } from './event.js';

const DAY_S = 86_400;
/** Long enough for the longest ban tsfirewall places (JAIL_BANTIME_MAX's limit is under 25 days). */
export const STREAM_MAX_AGE_S = 32 * DAY_S;

export function streamConfig(replicas: number, nanos: (ms: number) => number): Partial<StreamConfig> & { name: string } {
  return {
    name: STREAM,
    subjects: [`${SUBJECT_ROOT}.>`],
    max_msgs_per_subject: 1,
    max_age: nanos(STREAM_MAX_AGE_S * 1000),
    duplicate_window: nanos(120_000),
    num_replicas: replicas,
  };
}

export async function ensureStream(nc: NatsConnection, fleet: FleetConfig): Promise<void> {
  const nats = await loadNats();
  const jsm = await nc.jetstreamManager();
  try {
    const info = await jsm.streams.info(STREAM);
    if (info.config.max_msgs_per_subject !== 1) log.warn(`fleet: stream ${STREAM} keeps ${info.config.max_msgs_per_subject} messages per subject, not 1: catch-up replays more than the active bans`);
    return;
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
  }
  // One replica per server given, up to three (RAFT needs a majority: three survive the loss of one). Never fewer:
  // a cluster still electing its leader says "insufficient resources", and a stream of one replica made then would
  // die with its node; the caller tries again instead.
  const replicas = Math.min(3, fleet.servers.length);
  await jsm.streams.add({ ...streamConfig(replicas, nats.nanos), storage: nats.StorageType.File, discard: nats.DiscardPolicy.Old });
  log.info(`fleet: made stream ${STREAM} (${replicas} replicas)`);
}
