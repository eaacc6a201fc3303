/**
 * Who banned what here: for every (jail, address) the kernel holds because of the fleet, each origin's ban with its
 * end. One kernel entry can stand for several origins' bans (and this host's own); an origin's unban withdraws only
 * its own, and the entry goes when none is left. It also remembers addresses the admin unbanned here, so a replay
 * of an older remote ban does not bring one back. Kept in the state directory (fleet-bans.txt) for `tsfirewall
 * bans`, which shows each ban's origin, and for the service's next start (fleet-bans.txt).
 */
import { stateDir } from '../../state/dirs.js';
import { readStateFile, writeStateFile } from '../../state/write.js';
import { addressKey, BanTable, FOREVER, keyAddress, type AddressKey } from './ban-table.js';

export const LEDGER_FILE = 'fleet-bans.txt';
const HEADER = 'tsfw-fleet-ledger 1';

/** null: until unbanned. */
type Expiry = number | null;

const toEnd = (e: Expiry) => (e === null ? FOREVER : e);
const fromEnd = (e: number): Expiry => (e === FOREVER ? null : e);

/**
 * A copy of the text that shares no memory with it: a name or an IPv6 address split out of a message or of the
 * ledger file would otherwise be a slice that keeps the whole text alive as long as the ledger keeps the name.
 */
const own = (s: string): string => structuredClone(s);

export class Ledger {
  private readonly tables = new Map<string, BanTable>();
  /** jail -> address -> when the admin unbanned it here (ms). */
  private readonly liftedHere = new Map<string, Map<AddressKey, number>>();
  /** Origin names by id, and their ids: a ban stores its origin as a number. */
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly perOrigin: number[] = [];
  dirty = false;

  private id(origin: string): number {
    let i = this.ids.get(origin);
    if (i === undefined) { i = this.names.length; this.names.push(own(origin)); this.ids.set(this.names[i]!, i); this.perOrigin.push(0); }
    return i;
  }

  private table(jail: string): BanTable {
    let t = this.tables.get(jail);
    if (!t) { t = new BanTable(); this.tables.set(own(jail), t); }
    return t;
  }

  private bump(id: number, by: number): void { this.perOrigin[id] = Math.max(0, this.perOrigin[id]! + by); }

  /** Records `origin`'s ban; returns the entry's new end over every origin (what the kernel should hold). */
  ban(jail: string, ip: string, origin: string, expiresAt: Expiry): Expiry {
    const t = this.table(jail);
    const k = addressKey(ip);
    const id = this.id(origin);
    if (t.set(typeof k === 'string' && !t.slots.has(k) ? own(k) : k, id, toEnd(expiresAt))) this.bump(id, 1);
    this.dirty = true;
    return fromEnd(t.end(k)!);
  }

  /** Withdraws `origin`'s ban; true when no origin is left, so the kernel entry should go. */
  unban(jail: string, ip: string, origin: string): boolean {
    const id = this.ids.get(origin);
    const t = this.tables.get(jail);
    if (id === undefined || !t) return false;
    const { had, gone } = t.drop(addressKey(ip), id);
    if (!had) return false;
    this.bump(id, -1);
    this.dirty = true;
    return gone;
  }

  /** The admin lifted it here: every origin's ban goes, and older remote bans stay lifted. */
  liftHere(jail: string, ip: string, at: number): void {
    for (const id of this.tables.get(jail)?.remove(addressKey(ip)) ?? []) this.bump(id, -1);
    this.lift(jail, ip, at);
    this.dirty = true;
  }

  private lift(jail: string, ip: string, at: number): void {
    const k = addressKey(ip);
    let lifted = this.liftedHere.get(jail);
    if (!lifted) { lifted = new Map(); this.liftedHere.set(own(jail), lifted); }
    lifted.set(typeof k === 'string' ? own(k) : k, Math.max(at, lifted.get(k) ?? 0));
  }

  /** Whether a remote ban placed at `at` came before the admin lifted that address here. */
  liftedAfter(jail: string, ip: string, at: number): boolean {
    const t = this.liftedHere.get(jail)?.get(addressKey(ip));
    return t !== undefined && t >= at;
  }

  end(jail: string, ip: string): Expiry | undefined {
    const e = this.tables.get(jail)?.end(addressKey(ip));
    return e === undefined ? undefined : fromEnd(e);
  }

  has(jail: string, ip: string, origin: string): boolean {
    const id = this.ids.get(origin);
    return id !== undefined && (this.tables.get(jail)?.has(addressKey(ip), id) ?? false);
  }

  count(origin: string): number { const id = this.ids.get(origin); return id === undefined ? 0 : this.perOrigin[id]!; }
  get size(): number { let n = 0; for (const t of this.tables.values()) n += t.size; return n; }

  origins(jail: string, ip: string): string[] { return (this.tables.get(jail)?.origins(addressKey(ip)) ?? []).map((id) => this.names[id]!); }

  /** Drops what ended before `now` (the kernel expired it already); returns how many origin bans went. */
  expire(now: number): number {
    let n = 0;
    for (const t of this.tables.values()) t.expire(now, (id) => { this.bump(id, -1); n++; });
    // A lift is only needed while a replayed ban could predate it: the stream keeps nothing older than its max age.
    for (const lifted of this.liftedHere.values()) for (const [k, t] of lifted) if (now - t > LIFT_MEMORY_MS) lifted.delete(k);
    if (n > 0) this.dirty = true;
    return n;
  }

  /** Every (jail, ip) with its end and origins: for reconciling with the kernel. */
  *entries(): Generator<{ jail: string; ip: string; end: Expiry; origins: string[] }> {
    for (const [jail, t] of this.tables) {
      for (const [k, slot] of t.slots) yield { jail, ip: keyAddress(k), end: fromEnd(t.endOf(slot)), origins: t.originsAt(slot).map((id) => this.names[id]!) };
    }
  }

  /**
   * The file's text in pieces of a few hundred lines, one line per (jail, address, origin): written piece by piece,
   * a save of 100k bans never holds the whole text, nor 100k lines, at once.
   */
  *chunks(): Generator<string> {
    let lines: string[] = [HEADER];
    const full = () => lines.length >= CHUNK_LINES;
    const take = () => { const text = lines.join('\n') + '\n'; lines = []; return text; };
    for (const [jail, t] of this.tables) {
      for (const [k, slot] of t.slots) {
        const ip = keyAddress(k);
        const pairs = t.pairsAt(slot);
        for (let i = 0; i < pairs.length; i += 2) lines.push(`b ${jail} ${ip} ${this.names[pairs[i]!]} ${pairs[i + 1] === FOREVER ? '-' : pairs[i + 1]}`);
        if (full()) yield take();
      }
    }
    for (const [jail, lifted] of this.liftedHere) {
      for (const [k, at] of lifted) { lines.push(`l ${jail} ${keyAddress(k)} ${at}`); if (full()) yield take(); }
    }
    if (lines.length > 0) yield take();
  }

  toText(): string { return [...this.chunks()].join(''); }

  static fromText(text: string): Ledger {
    const l = new Ledger();
    if (!text.startsWith(`${HEADER}\n`) && text !== HEADER) return l;
    for (let at = HEADER.length + 1; at < text.length;) {
      const nl = text.indexOf('\n', at);
      const line = text.slice(at, nl < 0 ? text.length : nl);
      at = nl < 0 ? text.length : nl + 1;
      const f = line.split(' ');
      if (f[0] === 'b' && f.length === 5 && (f[4] === '-' || /^\d+$/.test(f[4]!))) l.ban(f[1]!, f[2]!, f[3]!, f[4] === '-' ? null : Number(f[4]));
      else if (f[0] === 'l' && f.length === 4 && /^\d+$/.test(f[3]!)) l.lift(f[1]!, f[2]!, Number(f[3]));
    }
    l.dirty = false;
    return l;
  }
}

const LIFT_MEMORY_MS = 32 * 24 * 3600 * 1000;
const CHUNK_LINES = 512;

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
  writeStateFile(dir, LEDGER_FILE, ledger.chunks());
  ledger.dirty = false;
}
