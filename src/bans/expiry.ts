/**
 * Chain-mode direct bans (`ban` with BAN_MODE=chain and no fail2ban to ask) are DROP rules the kernel never
 * expires, where fail2ban lifts its own after bantime and an ipset entry carries its timeout. So their expiries are
 * kept here, in the state directory, and the verbs that touch bans (ban, unban, bans, start/reload/restart) lift the
 * expired ones first. No timer: there is no resident process to run one, and the verbs cover every way an admin
 * looks at or changes bans; a ban may outlast its time until the next such verb (ipset mode has no such delay).
 */
import type { BanTarget, FirewallBackend } from '../backend/types.js';
import type { Family } from '../model.js';
import { stateDir } from '../state/dirs.js';
import { readStateFile, writeStateFile } from '../state/write.js';
import { banTargets, type JailSpec } from './jails.js';
import { countBans } from './tally.js';

export const LEDGER_FILE = 'chain-bans.json';

export interface ChainExpiry { readonly family: Family; readonly chain: string; readonly ip: string; readonly expiresAt: number }

/** Pure: the ledger's entries; anything malformed is dropped (a lost expiry only makes a ban last until unban). */
export function parseLedger(text: string | undefined): ChainExpiry[] {
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as { bans?: unknown };
    if (!Array.isArray(parsed?.bans)) return [];
    return parsed.bans.filter((b): b is ChainExpiry => (b?.family === 'ipv4' || b?.family === 'ipv6') &&
      typeof b.chain === 'string' && typeof b.ip === 'string' && typeof b.expiresAt === 'number');
  } catch {
    return [];
  }
}

export const readLedger = (dir = stateDir()) => {
  try { return parseLedger(readStateFile(dir, LEDGER_FILE)); } catch { return []; }
};

function writeLedger(entries: readonly ChainExpiry[], dir: string): void {
  writeStateFile(dir, LEDGER_FILE, JSON.stringify({ version: 1, bans: entries }) + '\n');
}

const keyOf = (e: { family: Family; chain: string; ip: string }) => `${e.family} ${e.chain} ${e.ip}`;

/** Records (or renews) when these chain bans end. */
export function recordChainBans(target: BanTarget, ips: readonly string[], expiresAt: number, dir = stateDir()): void {
  const fresh = ips.map((ip) => ({ family: target.family, chain: target.name, ip, expiresAt }));
  const renewed = new Set(fresh.map(keyOf));
  writeLedger([...readLedger(dir).filter((e) => !renewed.has(keyOf(e))), ...fresh], dir);
}

/** Forgets the expiries of unbanned addresses (every address of the chain, with 'all'). */
export function forgetChainBans(target: BanTarget, ips: readonly string[] | 'all', dir = stateDir()): void {
  const ledger = readLedger(dir);
  const gone = (e: ChainExpiry) => e.family === target.family && e.chain === target.name && (ips === 'all' || ips.includes(e.ip));
  if (ledger.some(gone)) writeLedger(ledger.filter((e) => !gone(e)), dir);
}

/** Seconds left per address of one chain, for `bans` to show as it shows a set entry's timeout. */
export function chainTimeLeft(target: BanTarget, now = Date.now(), dir = stateDir()): Map<string, number> {
  return new Map(readLedger(dir).filter((e) => e.family === target.family && e.chain === target.name && e.expiresAt > now)
    .map((e) => [e.ip, Math.ceil((e.expiresAt - now) / 1000)]));
}

/**
 * Removes the expired chain bans of these jails from the kernel and the ledger, and entries whose rule is gone
 * (unbanned by hand, chain destroyed by stop, which saves them apart: bans/saved.ts). Resolves to the number lifted.
 */
export async function liftExpiredChainBans(backend: FirewallBackend, jails: readonly JailSpec[], now = Date.now(), dir = stateDir()): Promise<number> {
  const ledger = readLedger(dir);
  if (ledger.length === 0) return 0;
  let lifted = 0;
  const drop = new Set<string>();
  for (const jail of jails) {
    let ofJail = 0;
    for (const target of banTargets(jail).filter((t) => t.kind === 'chain')) {
      const mine = ledger.filter((e) => e.family === target.family && e.chain === target.name);
      if (mine.length === 0) continue;
      const members = await backend.bans.members(target);
      if (!members) continue;
      const present = new Set(members.map((m) => m.ip));
      const expired = mine.filter((e) => e.expiresAt <= now && present.has(e.ip)).map((e) => e.ip);
      if (expired.length > 0) await backend.bans.remove(target, expired);
      ofJail += expired.length;
      for (const e of mine) if (e.expiresAt <= now || !present.has(e.ip)) drop.add(keyOf(e));
    }
    countBans(jail.jail, { expired: ofJail }, dir);
    lifted += ofJail;
  }
  if (drop.size > 0) writeLedger(ledger.filter((e) => !drop.has(keyOf(e))), dir);
  return lifted;
}
