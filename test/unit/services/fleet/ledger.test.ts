import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { addressKey, keyAddress } from '../../../../src/services/fleet/ban-table.js';
import { Ledger } from '../../../../src/services/fleet/ledger.js';

const NOW = 1_800_000_000_000;

describe('address keys', () => {
  test.each(['0.0.0.0', '1.2.3.4', '127.0.0.1', '198.51.100.7', '203.0.113.255', '255.255.255.255', '128.0.0.0'])('%s is a small integer and comes back the same', (ip) => {
    const k = addressKey(ip);
    expect(typeof k).toBe('number');
    expect(Number.isInteger(k) && (k as number) >= -(2 ** 31) && (k as number) < 2 ** 31).toBe(true);
    expect(keyAddress(k)).toBe(ip);
  });
  test.each(['2001:db8::7', '::ffff:1.2.3.4', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', ' 1.2.3.4'])('%s stays text', (ip) => {
    expect(addressKey(ip)).toBe(ip);
  });
  test('different addresses, different keys', () => {
    fc.assert(fc.property(fc.ipV4(), fc.ipV4(), (a, b) => (a === b) === (addressKey(a) === addressKey(b)) && keyAddress(addressKey(a)) === a));
  });
});

/** The ledger as it was first written (a Map of arrays per address), the reference the packed one must match. */
class Model {
  readonly bans = new Map<string, Map<string, number | null>>();
  readonly lifted = new Map<string, number>();
  ban(jail: string, ip: string, origin: string, end: number | null) {
    const k = `${jail} ${ip}`;
    const o = this.bans.get(k) ?? new Map();
    o.set(origin, end);
    this.bans.set(k, o);
    return this.end(jail, ip);
  }
  unban(jail: string, ip: string, origin: string) {
    const o = this.bans.get(`${jail} ${ip}`);
    if (!o?.delete(origin)) return false;
    if (o.size > 0) return false;
    this.bans.delete(`${jail} ${ip}`);
    return true;
  }
  liftHere(jail: string, ip: string, at: number) {
    this.bans.delete(`${jail} ${ip}`);
    this.lifted.set(`${jail} ${ip}`, Math.max(at, this.lifted.get(`${jail} ${ip}`) ?? 0));
  }
  end(jail: string, ip: string) {
    const o = this.bans.get(`${jail} ${ip}`);
    if (!o) return undefined;
    const ends = [...o.values()];
    return ends.includes(null) ? null : Math.max(...(ends as number[]));
  }
  expire(now: number) {
    let n = 0;
    for (const [k, o] of this.bans) {
      for (const [origin, end] of o) if (end !== null && end <= now) { o.delete(origin); n++; }
      if (o.size === 0) this.bans.delete(k);
    }
    return n;
  }
  count(origin: string) { return [...this.bans.values()].filter((o) => o.has(origin)).length; }
}

const JAILS = ['ssh', 'smtp'];
const IPS = ['198.51.100.1', '198.51.100.2', '203.0.113.200', '2001:db8::1', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'];
const ORIGINS = ['hostA', 'hostC', 'a-rather-long-origin-name'];
const op = fc.oneof(
  fc.record({ op: fc.constant('ban' as const), jail: fc.constantFrom(...JAILS), ip: fc.constantFrom(...IPS), origin: fc.constantFrom(...ORIGINS), end: fc.option(fc.integer({ min: 1, max: 100 })) }),
  fc.record({ op: fc.constant('unban' as const), jail: fc.constantFrom(...JAILS), ip: fc.constantFrom(...IPS), origin: fc.constantFrom(...ORIGINS) }),
  fc.record({ op: fc.constant('lift' as const), jail: fc.constantFrom(...JAILS), ip: fc.constantFrom(...IPS), at: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ op: fc.constant('expire' as const), at: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ op: fc.constant('reload' as const) }),
);

describe('ledger', () => {
  test('keeps each origin\'s ban, survives its own text, expires on time', () => {
    const l = new Ledger();
    l.ban('ssh', '198.51.100.1', 'hostA', NOW + 1000);
    l.ban('ssh', '198.51.100.1', 'hostC', null);
    l.liftHere('ssh', '198.51.100.2', NOW);
    const back = Ledger.fromText(l.toText());
    expect(back.liftedAfter('ssh', '198.51.100.2', NOW - 1)).toBe(true);
    expect(back.origins('ssh', '198.51.100.1')).toEqual(['hostA', 'hostC']);
    expect(back.end('ssh', '198.51.100.1')).toBeNull();
    back.expire(NOW + 2000);
    expect(back.origins('ssh', '198.51.100.1')).toEqual(['hostC']);
    expect(back.count('hostA')).toBe(0);
  });

  test('the file is one line per (jail, address, origin), then the lifts, whatever pieces it is written in', () => {
    const l = new Ledger();
    for (let i = 0; i < 1500; i++) l.ban('ssh', `198.51.${100 + (i >> 8)}.${i & 255}`, 'hostA', NOW + i);
    l.ban('ssh', '2001:db8::7', 'hostC', null);
    l.ban('ssh', '2001:db8::7', 'hostA', NOW);
    l.liftHere('smtp', '192.0.2.9', NOW);
    const pieces = [...l.chunks()];
    expect(pieces.length).toBeGreaterThan(1);
    const lines = pieces.join('').split('\n');
    expect(lines[0]).toBe('tsfw-fleet-ledger 1');
    expect(lines[1]).toBe(`b ssh 198.51.100.0 hostA ${NOW}`);
    expect(lines.slice(-4)).toEqual(['b ssh 2001:db8::7 hostC -', `b ssh 2001:db8::7 hostA ${NOW}`, `l smtp 192.0.2.9 ${NOW}`, '']);
    expect(lines).toHaveLength(1 + 1502 + 1 + 1);
    expect(Ledger.fromText(l.toText()).toText()).toBe(l.toText());
  });

  test('a ban newer than a lift of the same address survives a reload with its lift', () => {
    const l = new Ledger();
    l.liftHere('ssh', '198.51.100.3', NOW);
    l.ban('ssh', '198.51.100.3', 'hostA', NOW + 5000);
    const back = Ledger.fromText(l.toText());
    expect(back.origins('ssh', '198.51.100.3')).toEqual(['hostA']);
    expect(back.liftedAfter('ssh', '198.51.100.3', NOW)).toBe(true);
    expect(back.count('hostA')).toBe(1);
  });

  test('a file of another version, or none, is an empty ledger', () => {
    expect(Ledger.fromText('tsfw-fleet-ledger 2\nb ssh 198.51.100.1 hostA -\n').size).toBe(0);
    expect(Ledger.fromText('').size).toBe(0);
    expect(Ledger.fromText('tsfw-fleet-ledger 1').size).toBe(0);
  });

  test('answers as the first ledger (a Map of arrays per address) did, for any sequence of bans, unbans, lifts and expiries', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      let l = new Ledger();
      const m = new Model();
      for (const o of ops) {
        if (o.op === 'ban') expect(l.ban(o.jail, o.ip, o.origin, o.end === null ? null : NOW + o.end)).toBe(m.ban(o.jail, o.ip, o.origin, o.end === null ? null : NOW + o.end));
        else if (o.op === 'unban') expect(l.unban(o.jail, o.ip, o.origin)).toBe(m.unban(o.jail, o.ip, o.origin));
        else if (o.op === 'lift') { l.liftHere(o.jail, o.ip, NOW + o.at); m.liftHere(o.jail, o.ip, NOW + o.at); }
        else if (o.op === 'expire') expect(l.expire(NOW + o.at)).toBe(m.expire(NOW + o.at));
        else l = Ledger.fromText(l.toText());
      }
      for (const jail of JAILS) {
        for (const ip of IPS) {
          expect(l.end(jail, ip)).toBe(m.end(jail, ip));
          expect(l.origins(jail, ip)).toEqual([...(m.bans.get(`${jail} ${ip}`)?.keys() ?? [])]);
          for (const origin of ORIGINS) expect(l.has(jail, ip, origin)).toBe(m.bans.get(`${jail} ${ip}`)?.has(origin) ?? false);
          for (const at of [NOW, NOW + 50, NOW + 100]) expect(l.liftedAfter(jail, ip, at)).toBe((m.lifted.get(`${jail} ${ip}`) ?? -1) >= at);
        }
      }
      for (const origin of ORIGINS) expect(l.count(origin)).toBe(m.count(origin));
      expect(l.size).toBe(m.bans.size);
      expect([...l.entries()].map((e) => `${e.jail} ${e.ip}`).sort()).toEqual([...m.bans.keys()].sort());
    }), { numRuns: 300 });
  });
});
