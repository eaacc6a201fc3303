/**
 * Who banned what here: for every (jail, address) the kernel holds because of the fleet, each origin's ban with its
 * end. One kernel entry can stand for several origins' bans (and this host's own); an origin's unban withdraws only
 * its own, and the entry goes when none is left. It also remembers addresses the admin unbanned here, so a replay
 * of an older remote ban does not bring one back. Kept in the state directory (fleet-bans.txt) for `tsfirewall
 * bans`, which shows each ban's origin, and for the service's next start (fleet-bans.txt).
 */
import { stateDir } from '../../state/dirs.js';
import { readStateFile, writeStateFile } from '../../state/write.js';

export const LEDGER_FILE = 'fleet-bans.txt';

/** null: until unbanned. */
type Expiry = number | null;

const key = (jail: string, ip: string) => `${jail} ${ip}`;
const splitKey = (k: string) => { const i = k.indexOf(' '); return [k.slice(0, i), k.slice(i + 1)] as const; };
const later = (a: Expiry, b: Expiry): Expiry => (a === null || b === null ? null : Math.max(a, b));

/**
 * One address's bans: origin, end, origin, end... A flat array, not a Map per address: at 100k remote bans the
 * service's memory is mostly this table, and nearly every address has one origin.
 */
type Origins = (string | Expiry)[];

const endOf = (o: Origins): Expiry => { let e: Expiry = 0; for (let i = 1; i < o.length; i += 2) e = later(e, o[i] as Expiry); return e; };
const indexOf = (o: Origins, origin: string) => { for (let i = 0; i < o.length; i += 2) if (o[i] === origin) return i; return -1; };

export class Ledger {
  /** key -> its origins' bans. */
  private readonly bans = new Map<string, Origins>();
  /** key -> when the admin unbanned it here (ms). */
  private readonly liftedHere = new Map<string, number>();
  private readonly perOrigin = new Map<string, number>();
  dirty = false;

  private bump(origin: string, by: number): void { this.perOrigin.set(origin, Math.max(0, (this.perOrigin.get(origin) ?? 0) + by)); }

  /** Records `origin`'s ban; returns the entry's new end over every origin (what the kernel should hold). */
  ban(jail: string, ip: string, origin: string, expiresAt: Expiry): Expiry {
    const k = key(jail, ip);
    const o = this.bans.get(k);
    if (!o) { this.bans.set(k, [origin, expiresAt]); this.bump(origin, 1); this.dirty = true; return expiresAt; }
    const i = indexOf(o, origin);
    if (i < 0) { o.push(origin, expiresAt); this.bump(origin, 1); } else o[i + 1] = expiresAt;
    this.dirty = true;
    return endOf(o);
  }

  /** Withdraws `origin`'s ban; true when no origin is left, so the kernel entry should go. */
  unban(jail: string, ip: string, origin: string): boolean {
    const k = key(jail, ip);
    const o = this.bans.get(k);
    const i = o ? indexOf(o, origin) : -1;
    if (!o || i < 0) return false;
    o.splice(i, 2);
    this.bump(origin, -1);
    this.dirty = true;
    if (o.length > 0) return false;
    this.bans.delete(k);
    return true;
  }

  /** The admin lifted it here: every origin's ban goes, and older remote bans stay lifted. */
  liftHere(jail: string, ip: string, at: number): void {
    const k = key(jail, ip);
    for (const origin of this.origins(jail, ip)) this.bump(origin, -1);
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
    const o = this.bans.get(key(jail, ip));
    return o && o.length > 0 ? endOf(o) : undefined;
  }

  has(jail: string, ip: string, origin: string): boolean { const o = this.bans.get(key(jail, ip)); return o !== undefined && indexOf(o, origin) >= 0; }
  count(origin: string): number { return this.perOrigin.get(origin) ?? 0; }
  get size(): number { return this.bans.size; }

  origins(jail: string, ip: string): string[] { const o = this.bans.get(key(jail, ip)) ?? []; return o.filter((_, i) => i % 2 === 0) as string[]; }

  /** Drops what ended before `now` (the kernel expired it already); returns how many origin bans went. */
  expire(now: number): number {
    let n = 0;
    for (const [k, o] of this.bans) {
      for (let i = o.length - 2; i >= 0; i -= 2) {
        const end = o[i + 1] as Expiry;
        if (end !== null && end <= now) { this.bump(o[i] as string, -1); o.splice(i, 2); n++; }
      }
      if (o.length === 0) this.bans.delete(k);
    }
    // A lift is only needed while a replayed ban could predate it: the stream keeps nothing older than its max age.
    for (const [k, t] of this.liftedHere) if (now - t > LIFT_MEMORY_MS) this.liftedHere.delete(k);
    if (n > 0) this.dirty = true;
    return n;
  }

  /** Every (jail, ip) with its end and origins: for reconciling with the kernel. */
  *entries(): Generator<{ jail: string; ip: string; end: Expiry; origins: string[] }> {
    for (const [k, o] of this.bans) {
      const [jail, ip] = splitKey(k);
      yield { jail, ip, end: endOf(o), origins: o.filter((_, i) => i % 2 === 0) as string[] };
    }
  }

  /** One line per (jail, address, origin): a list of 100k lines, not 100k arrays, on every save. */
  toText(): string {
    const lines = ['tsfw-fleet-ledger 1'];
    for (const [k, o] of this.bans) for (let i = 0; i < o.length; i += 2) lines.push(`b ${k} ${o[i]} ${o[i + 1] ?? '-'}`);
    for (const [k, t] of this.liftedHere) lines.push(`l ${k} ${t}`);
    return lines.join('\n') + '\n';
  }

  static fromText(text: string): Ledger {
    const l = new Ledger();
    const lines = text.split('\n');
    if (lines[0] !== 'tsfw-fleet-ledger 1') return l;
    for (const line of lines.slice(1)) {
      const f = line.split(' ');
      if (f[0] === 'b' && f.length === 5 && (f[4] === '-' || /^\d+$/.test(f[4]!))) l.ban(f[1]!, f[2]!, f[3]!, f[4] === '-' ? null : Number(f[4]));
      else if (f[0] === 'l' && f.length === 4 && /^\d+$/.test(f[3]!)) l.liftedHere.set(key(f[1]!, f[2]!), Number(f[3]));
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
    return text === undefined ? new Ledger() : Ledger.fromText(text);
  } catch {
    return new Ledger();
  }
}

export function writeLedger(ledger: Ledger, dir = stateDir()): void {
  writeStateFile(dir, LEDGER_FILE, ledger.toText());
  ledger.dirty = false;
}
