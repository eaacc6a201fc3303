/**
 * One jail's remote bans in the ledger, stored for 100k addresses without 100k objects: an IPv4 address is its 32
 * bits (a small integer V8 keeps inside the Map, no string), an IPv6 one its canonical text, each mapped to a slot
 * of two typed arrays (origin, end). An object, an array, a key string and a number per ban made the service's
 * heap grow with the ban count and left garbage in every page of it (bench/results/fleet.md).
 */
import { isDottedQuad } from '../../net/addr.js';

/** An address as the table's key: IPv4's bits as a signed 32-bit integer (always a small integer), IPv6 as text. */
export type AddressKey = number | string;

export function addressKey(ip: string): AddressKey {
  if (!isDottedQuad(ip)) return ip;
  let n = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) { n = n * 256 + octet; octet = 0; } else octet = octet * 10 + (c - 48);
  }
  return (n * 256 + octet) | 0;
}

export const keyAddress = (k: AddressKey): string =>
  typeof k === 'string' ? k : `${(k >>> 24) & 255}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;

/** An end in the table: ms since the epoch, Infinity for a ban until unbanned (null outside). */
export const FOREVER = Infinity;
/** The origin slot's mark for an address several origins banned: their (origin, end) pairs are in `several`. */
const SEVERAL = 0xffffffff;
const FIRST_CAPACITY = 256;

export class BanTable {
  /** address -> slot */
  readonly slots = new Map<AddressKey, number>();
  private origin = new Uint32Array(FIRST_CAPACITY);
  private endAt = new Float64Array(FIRST_CAPACITY);
  /** slot -> origin id, end, origin id, end...: the few addresses more than one origin banned. */
  private readonly several = new Map<number, number[]>();
  private readonly free: number[] = [];
  private next = 0;

  get size(): number { return this.slots.size; }

  /** Sets `origin`'s ban on the address; true when that origin had none there before. */
  set(k: AddressKey, origin: number, end: number): boolean {
    const slot = this.slots.get(k);
    if (slot === undefined) { this.slots.set(k, this.place(origin, end)); return true; }
    const o = this.origin[slot]!;
    if (o === origin) { this.endAt[slot] = end; return false; }
    if (o !== SEVERAL) { this.several.set(slot, [o, this.endAt[slot]!, origin, end]); this.origin[slot] = SEVERAL; return true; }
    const pairs = this.several.get(slot)!;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === origin) { pairs[i + 1] = end; return false; }
    pairs.push(origin, end);
    return true;
  }

  /** Withdraws `origin`'s ban; `gone` when no origin is left on the address. */
  drop(k: AddressKey, origin: number): { had: boolean; gone: boolean } {
    const slot = this.slots.get(k);
    if (slot === undefined) return { had: false, gone: false };
    const o = this.origin[slot]!;
    if (o !== SEVERAL) {
      if (o !== origin) return { had: false, gone: false };
      this.release(k, slot);
      return { had: true, gone: true };
    }
    const pairs = this.several.get(slot)!;
    const i = pairs.findIndex((p, j) => j % 2 === 0 && p === origin);
    if (i < 0) return { had: false, gone: false };
    pairs.splice(i, 2);
    if (pairs.length === 2) { this.origin[slot] = pairs[0]!; this.endAt[slot] = pairs[1]!; this.several.delete(slot); }
    return { had: true, gone: false };
  }

  /** Every origin's ban on the address goes; returns those origins. */
  remove(k: AddressKey): number[] {
    const slot = this.slots.get(k);
    if (slot === undefined) return [];
    const ids = this.originsAt(slot);
    this.release(k, slot);
    return ids;
  }

  /** Asked twice for every event received: no array made for the common case of one origin. */
  has(k: AddressKey, origin: number): boolean {
    const slot = this.slots.get(k);
    if (slot === undefined) return false;
    const o = this.origin[slot]!;
    if (o !== SEVERAL) return o === origin;
    const pairs = this.several.get(slot)!;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === origin) return true;
    return false;
  }

  /** The latest end over the address's origins, undefined when it has none. */
  end(k: AddressKey): number | undefined {
    const slot = this.slots.get(k);
    return slot === undefined ? undefined : this.endOf(slot);
  }

  origins(k: AddressKey): number[] {
    const slot = this.slots.get(k);
    return slot === undefined ? [] : this.originsAt(slot);
  }

  /** Each (origin, end) on the slot, in the order the origins came. */
  pairsAt(slot: number): number[] {
    const o = this.origin[slot]!;
    return o === SEVERAL ? this.several.get(slot)! : [o, this.endAt[slot]!];
  }

  originsAt(slot: number): number[] { return this.pairsAt(slot).filter((_, i) => i % 2 === 0); }

  endOf(slot: number): number {
    if (this.origin[slot] !== SEVERAL) return this.endAt[slot]!;
    const pairs = this.several.get(slot)!;
    let e = 0;
    for (let i = 1; i < pairs.length; i += 2) e = Math.max(e, pairs[i]!);
    return e;
  }

  /** Drops every origin's ban that ended by `now`; calls `ended` with each such origin. */
  expire(now: number, ended: (origin: number) => void): void {
    for (const [k, slot] of this.slots) {
      if (this.origin[slot] !== SEVERAL) {
        if (this.endAt[slot]! <= now) { ended(this.origin[slot]!); this.release(k, slot); }
        continue;
      }
      for (const [o, e] of chunkPairs(this.several.get(slot)!)) if (e <= now) { ended(o); this.drop(k, o); }
    }
  }

  private place(origin: number, end: number): number {
    const slot = this.free.pop() ?? this.next++;
    if (slot >= this.origin.length) this.grow();
    this.origin[slot] = origin;
    this.endAt[slot] = end;
    return slot;
  }

  private release(k: AddressKey, slot: number): void {
    this.slots.delete(k);
    this.several.delete(slot);
    this.free.push(slot);
  }

  private grow(): void {
    const origin = new Uint32Array(this.origin.length * 2);
    origin.set(this.origin);
    const endAt = new Float64Array(this.endAt.length * 2);
    endAt.set(this.endAt);
    this.origin = origin;
    this.endAt = endAt;
  }
}

const chunkPairs = (pairs: readonly number[]): [number, number][] =>
  Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i]!, pairs[2 * i + 1]!]);
