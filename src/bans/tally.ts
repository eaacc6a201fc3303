/**
 * How many bans tsfirewall itself has put into the kernel and taken out again, per jail, since the state directory
 * began: the counters `metrics` reports as bans added and removed. Counted where the kernel is changed (ban,
 * unban, the lift of expired chain-mode bans), kept in the state directory, replaced atomically (state/write.ts),
 * so a reboot or a crash never loses the ones written. Bans fail2ban makes or lifts itself are fail2ban's to count
 * (its jail status: metrics reads it there), so a ban sent through fail2ban-client is not counted here too.
 */
import { log } from '../log.js';
import { stateDir } from '../state/dirs.js';
import { readStateFile, writeStateFile } from '../state/write.js';

export const TALLY_FILE = 'ban-tally.json';

/** Per jail: addresses added, removed (unban) and lifted because their ban time was over. */
export interface JailTally { readonly added: number; readonly removed: number; readonly expired: number }

const ZERO: JailTally = { added: 0, removed: 0, expired: 0 };
const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/** Pure: the tallies in the file's text; a malformed file counts from zero again (a counter reset, not an error). */
export function parseTally(text: string | undefined): Record<string, JailTally> {
  if (text === undefined) return {};
  try {
    const jails = (JSON.parse(text) as { jails?: unknown }).jails;
    if (typeof jails !== 'object' || jails === null) return {};
    return Object.fromEntries(Object.entries(jails as Record<string, Partial<JailTally>>)
      .map(([jail, t]) => [jail, { added: count(t?.added), removed: count(t?.removed), expired: count(t?.expired) }]));
  } catch {
    return {};
  }
}

export function readTally(dir = stateDir()): Record<string, JailTally> {
  try { return parseTally(readStateFile(dir, TALLY_FILE)); } catch { return {}; }
}

/**
 * Adds `change` to the jail's tally. Never fails the verb: a ban is in the kernel whether or not it was counted.
 * Two ban verbs finishing at the same instant may lose one count (each writes what it read plus its own).
 */
export function countBans(jail: string, change: Partial<JailTally>, dir = stateDir()): void {
  if (!Object.values(change).some((n) => (n ?? 0) > 0)) return;
  try {
    const all = readTally(dir);
    const was = all[jail] ?? ZERO;
    const next = { added: was.added + (change.added ?? 0), removed: was.removed + (change.removed ?? 0), expired: was.expired + (change.expired ?? 0) };
    writeStateFile(dir, TALLY_FILE, JSON.stringify({ version: 1, jails: { ...all, [jail]: next } }) + '\n');
  } catch (err) {
    log.debug(`ban tally not updated: ${(err as Error).message}`);
  }
}
