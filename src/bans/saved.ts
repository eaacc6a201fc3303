/**
 * Bans that live only in the kernel (ipset entries, chain-mode direct bans) die with `stop`, which destroys the
 * sets and chains, so `systemctl restart` (a stop then a start) and a reboot (whose shutdown runs `tsfirewall stop`)
 * lost every one fail2ban's database does not bring back. `stop` saves them here with the time each has left, and
 * the next start puts back those still due, through the backend's ban store, once the ruleset is loaded.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import type { BanTarget, FirewallBackend } from '../backend/types.js';
import type { Family } from '../model.js';
import { stateDir } from '../state/dirs.js';
import { readStateFile, removeStateFile, writeStateFile } from '../state/write.js';
import { chainTimeLeft, recordChainBans } from './expiry.js';
import { banTargets, type JailSpec } from './jails.js';

export const SAVED_FILE = 'saved-bans.json';

/** One saved ban; `expiresAt` in ms since the epoch, null for a ban that lasts until unban. */
export interface SavedBan { readonly jail: string; readonly family: Family; readonly ip: string; readonly expiresAt: number | null }

/** Reads every ban of these jails from the kernel, with its expiry (a set's timeout, a chain ban's ledger entry). */
export async function collectBans(backend: FirewallBackend, jails: readonly JailSpec[], now = Date.now(), dir = stateDir()): Promise<SavedBan[]> {
  const out: SavedBan[] = [];
  for (const j of jails) {
    for (const target of banTargets(j)) {
      const members = await backend.bans.members(target);
      const left = target.kind === 'chain' ? chainTimeLeft(target, now, dir) : undefined;
      for (const m of members ?? []) {
        const seconds = m.expiresIn ?? left?.get(m.ip);
        out.push({ jail: j.jail, family: target.family, ip: m.ip, expiresAt: seconds === undefined ? null : now + seconds * 1000 });
      }
    }
  }
  return out;
}

/** Saves them (an empty list removes the file: nothing to restore). Throws StateError when it cannot. */
export function saveBans(bans: readonly SavedBan[], now = Date.now(), dir = stateDir()): void {
  if (bans.length === 0) removeStateFile(dir, SAVED_FILE);
  else writeStateFile(dir, SAVED_FILE, JSON.stringify({ version: 1, savedAt: now, bans }) + '\n');
}

/** Pure: the saved file's bans, or why it cannot be read. */
export function parseSaved(text: string): { bans: SavedBan[] } | { error: string } {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch (err) { return { error: (err as Error).message }; }
  const bans = (parsed as { bans?: unknown })?.bans;
  if (!Array.isArray(bans)) return { error: 'no list of bans in it' };
  const good = bans.filter((b): b is SavedBan => typeof b?.jail === 'string' && (b.family === 'ipv4' || b.family === 'ipv6') &&
    typeof b.ip === 'string' && (b.expiresAt === null || typeof b.expiresAt === 'number'));
  return good.length === bans.length ? { bans: good } : { error: `${bans.length - good.length} malformed entries` };
}

export interface RestoreBatch { readonly target: BanTarget; readonly ips: readonly string[]; readonly timeout?: number; readonly expiresAt?: number }

/**
 * Pure: what to add where. A ban goes back to its jail's target for its family now (the set or chain BAN_MODE
 * gives today, even if it changed since); one whose time is up, or whose jail is gone, is dropped. Set entries are
 * grouped by time left, rounded up by at most 2%: about 50 `ipset restore` runs per doubling of the time left, not
 * one per address.
 */
export function restorePlan(bans: readonly SavedBan[], jails: readonly JailSpec[], now: number): { batches: RestoreBatch[]; expired: number; unknown: number } {
  const groups = new Map<string, { target: BanTarget; ips: string[]; timeout?: number; expiresAt?: number }>();
  let expired = 0;
  let unknown = 0;
  for (const b of bans) {
    const target = jails.find((j) => j.jail === b.jail)?.targets[b.family];
    const jail = jails.find((j) => j.jail === b.jail);
    if (!target || !jail) { unknown++; continue; }
    const left = b.expiresAt === null ? undefined : Math.ceil((b.expiresAt - now) / 1000);
    if (left !== undefined && left <= 0) { expired++; continue; }
    const t: BanTarget = { family: b.family, name: target, kind: jail.kind };
    // A chain rule cannot carry a timeout: its expiry goes to the ledger, exact, and the verbs lift it.
    const timeout = t.kind === 'set' ? (left === undefined ? 0 : roundUp(left)) : undefined;
    const key = `${t.kind} ${t.family} ${t.name} ${timeout ?? b.expiresAt}`;
    const group = groups.get(key) ?? { target: t, ips: [], ...(timeout === undefined ? {} : { timeout }), ...(t.kind === 'chain' && b.expiresAt !== null ? { expiresAt: b.expiresAt } : {}) };
    group.ips.push(b.ip);
    groups.set(key, group);
  }
  return { batches: [...groups.values()], expired, unknown };
}

const roundUp = (seconds: number) => { const step = Math.max(1, Math.ceil(seconds / 50)); return Math.ceil(seconds / step) * step; };

/**
 * Puts the saved bans back (once: the file is consumed) and says what happened, in one line for the result. A
 * corrupt file is moved aside and reported, never fatal: the firewall is up either way.
 */
export async function restoreBans(backend: FirewallBackend, jails: readonly JailSpec[], now = Date.now(), dir = stateDir()): Promise<{ message?: string; warning?: string }> {
  let text: string | undefined;
  try { text = readStateFile(dir, SAVED_FILE); } catch (err) { return { warning: `saved bans not restored: ${(err as Error).message}` }; }
  if (text === undefined) return {};
  const parsed = parseSaved(text);
  if ('error' in parsed) {
    try { renameSync(join(dir, SAVED_FILE), join(dir, `${SAVED_FILE}.corrupt`)); } catch { /* reported below either way */ }
    return { warning: `saved bans in ${join(dir, SAVED_FILE)} are unreadable (${parsed.error}); ignored (kept as ${SAVED_FILE}.corrupt)` };
  }
  const plan = restorePlan(parsed.bans, jails, now);
  let restored = 0;
  const failed: string[] = [];
  for (const batch of plan.batches) {
    try {
      restored += await backend.bans.add(batch.target, batch.ips, batch.timeout === undefined ? {} : { timeout: batch.timeout });
      if (batch.expiresAt !== undefined) recordChainBans(batch.target, batch.ips, batch.expiresAt, dir);
    } catch (err) {
      failed.push(`${batch.ips.length} into ${batch.target.name}: ${(err as Error).message}`);
    }
  }
  // Kept when a batch failed, for the next start to try again (adds are idempotent); consumed otherwise, so a ban
  // lifted later is not brought back by a start after a crash.
  if (failed.length === 0) removeStateFile(dir, SAVED_FILE);
  const dropped = [plan.expired ? `${plan.expired} expired` : '', plan.unknown ? `${plan.unknown} for jails no longer configured` : ''].filter(Boolean);
  return {
    message: `${restored} saved ban${restored === 1 ? '' : 's'} restored${dropped.length ? ` (${dropped.join(', ')}, dropped)` : ''}`,
    ...(failed.length ? { warning: `some saved bans could not be restored (kept for the next start): ${failed.join('; ')}` } : {}),
  };
}
