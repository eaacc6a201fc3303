/**
 * The fleet's hook into metrics: fleet bans are synchronised elsewhere, and whatever does it writes its status here
 * (`fleet-status.json` in the state directory: `{"lagSeconds": N, "updated": EPOCH_SECONDS}`), so `metrics` reports
 * the fleet lag without knowing how the fleet works. No file: the fleet is off, and no fleet metric is reported.
 */
import { stateDir } from '../state/dirs.js';
import { readStateFile } from '../state/write.js';

export const FLEET_STATUS_FILE = 'fleet-status.json';

export interface FleetStatus { readonly lagSeconds: number; readonly updated?: number }

/** Pure: the status in the file's text, or undefined when it holds no usable lag. */
export function parseFleetStatus(text: string | undefined): FleetStatus | undefined {
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as { lagSeconds?: unknown; updated?: unknown };
    if (typeof o?.lagSeconds !== 'number' || !Number.isFinite(o.lagSeconds) || o.lagSeconds < 0) return undefined;
    return { lagSeconds: o.lagSeconds, ...(typeof o.updated === 'number' && Number.isFinite(o.updated) ? { updated: o.updated } : {}) };
  } catch {
    return undefined;
  }
}

export function readFleetStatus(dir = stateDir()): FleetStatus | undefined {
  try { return parseFleetStatus(readStateFile(dir, FLEET_STATUS_FILE)); } catch { return undefined; }
}
