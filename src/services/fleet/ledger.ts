/**
 * Who banned what here: for every (jail, address) the kernel holds because of the fleet, each origin's ban with its
 * end. One kernel entry can stand for several origins' bans (and this host's own); an origin's unban withdraws only
 * its own, and the entry goes when none is left. It also remembers addresses the admin unbanned here, so a replay
 * of an older remote ban does not bring one back. Kept in the state directory (fleet-bans.json) for `tsfirewall
 * bans`, which shows each ban's origin, and for the service's next start.
 */
import { stateDir } from '../../state/dirs.js';
import { readStateFile, writeStateFile } from '../../state/write.js';

export const LEDGER_FILE = 'fleet-bans.json';

/** null: until unbanned. */
type Expiry = number | null;

const key = (jail: string, ip: string) => `${jail} ${ip}`;
const splitKey = (k: string) => { const i = k.indexOf(' '); return [k.slice(0, i), k.slice(i + 1)] as const; };
const later = (a: Expiry, b: Expiry): Expiry => (a === null || b === null ? null : Math.max(a, b));

export class Ledger {
  /** key -> origin -> expiry. */
  private readonly bans = new Map<string, Map<string, Expiry>>();
  /** key -> when the admin unbanned it here (ms). */
  private readonly liftedHere = new Map<string, number>();
  private readonly perOrigin = new Map<string, number>();
  dirty = false;

  /** Records `origin`'s ban; returns the entry's new end over every origin (what the kernel should hold). */
  ban(jail: string, ip: string, origin: string, expiresAt: Expiry): Expiry {
    const k = key(jail, ip);
    const origins = this.bans.get(k) ?? new Map<string, Expiry>();
    if (!origins.has(origin)) this.perOrigin.set(origin, (this.perOrigin.get(origin) ?? 0) + 1);
    origins.set(origin, expiresAt);
    this.bans.set(k, origins);
    this.dirty = true;
    return this.end(jail, ip)!;
  }

  /** Withdraws `origin`'s ban; true when no origin is left, so the kernel entry should go. */
  unban(jail: string, ip: string, origin: string): boolean {
    const k = key(jail, ip);
    const origins = this.bans.get(k);
    if (!origins?.delete(origin)) return false;
    this.perOrigin.set(origin, Math.max(0, (this.perOrigin.get(origin) ?? 1) - 1));
    this.dirty = true;
    if (origins.size > 0) return false;
    this.bans.delete(k);
    return true;
  }

  /** The admin lifted it here: every origin's ban goes, and older remote bans stay lifted. */
  liftHere(jail: string, ip: string, at: number): void {
    const k = key(jail, ip);
    for (const origin of this.bans.get(k)?.keys() ?? []) this.perOrigin.set(origin, Math.max(0, (this.perOrigin.get(origin) ?? 1) - 1));
    this.bans.delete(k);
    this.liftedHere.set(k, Math.max(at, this.liftedHere.get(k) ?? 0));
    this.dirty = true;
  }

  /** Whether a remote ban placed at `at` came before the admin lifted that address here. */
  liftedAfter(jail: string, ip: string, at: number): boolean {
    const t = this.liftedHere.get(key(jail, ip));
    return t !== undefined && t >= at;
  }

  end(jail: string, ip: string): Expiry | undefined {
    const origins = this.bans.get(key(jail, ip));
    if (!origins || origins.size === 0) return undefined;
    return [...origins.values()].reduce<Expiry>((a, b) => later(a, b), 0);
  }

  has(jail: string, ip: string, origin: string): boolean { return this.bans.get(key(jail, ip))?.has(origin) ?? false; }
  count(origin: string): number { return this.perOrigin.get(origin) ?? 0; }
  get size(): number { return this.bans.size; }

  origins(jail: string, ip: string): string[] { return [...(this.bans.get(key(jail, ip))?.keys() ?? [])]; }

  /** Drops what ended before `now` (the kernel expired it already); returns how many origin bans went. */
  expire(now: number): number {
    let n = 0;
    for (const [k, origins] of this.bans) {
      for (const [origin, end] of origins) {
        if (end !== null && end <= now) { origins.delete(origin); this.perOrigin.set(origin, Math.max(0, (this.perOrigin.get(origin) ?? 1) - 1)); n++; }
      }
      if (origins.size === 0) this.bans.delete(k);
    }
    // A lift is only needed while a replayed ban could predate it: the stream keeps nothing older than its max age.
    for (const [k, t] of this.liftedHere) if (now - t > LIFT_MEMORY_MS) this.liftedHere.delete(k);
    if (n > 0) this.dirty = true;
    return n;
  }

  /** Every (jail, ip) with its end and origins: for reconciling with the kernel. */
  *entries(): Generator<{ jail: string; ip: string; end: Expiry; origins: string[] }> {
    for (const [k, origins] of this.bans) {
      const [jail, ip] = splitKey(k);
      yield { jail, ip, end: [...origins.values()].reduce<Expiry>((a, b) => later(a, b), 0), origins: [...origins.keys()] };
    }
  }

  toJSON(): unknown {
    const rows: [string, string, string, Expiry][] = [];
    for (const [k, origins] of this.bans) { const [jail, ip] = splitKey(k); for (const [o, e] of origins) rows.push([jail, ip, o, e]); }
    return { version: 1, bans: rows, lifted: [...this.liftedHere].map(([k, t]) => [...splitKey(k), t]) };
  }

  static fromJSON(data: unknown): Ledger {
    const l = new Ledger();
    const d = data as { bans?: unknown; lifted?: unknown };
    for (const row of Array.isArray(d?.bans) ? d.bans : []) {
      if (Array.isArray(row) && typeof row[0] === 'string' && typeof row[1] === 'string' && typeof row[2] === 'string' && (row[3] === null || typeof row[3] === 'number')) {
        l.ban(row[0], row[1], row[2], row[3]);
      }
    }
    for (const row of Array.isArray(d?.lifted) ? d.lifted : []) {
      if (Array.isArray(row) && typeof row[0] === 'string' && typeof row[1] === 'string' && typeof row[2] === 'number') l.liftedHere.set(key(row[0], row[1]), row[2]);
    }
    l.dirty = false;
    return l;
  }
}

const LIFT_MEMORY_MS = 32 * 24 * 3600 * 1000;

/** The ledger the service last wrote, or an empty one (an unreadable file is no reason to stop). */
export function readLedger(dir = stateDir()): Ledger {
  try {
    const text = readStateFile(dir, LEDGER_FILE);
    return text === undefined ? new Ledger() : Ledger.fromJSON(JSON.parse(text));
  } catch {
    return new Ledger();
  }
}

export function writeLedger(ledger: Ledger, dir = stateDir()): void {
  writeStateFile(dir, LEDGER_FILE, JSON.stringify(ledger.toJSON()) + '\n');
  ledger.dirty = false;
}
