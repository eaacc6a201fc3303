/**
 * What a host does with one event from another: apply it, skip it, or refuse it with a reason that is counted.
 * Pure over the facts it is given (the ban guard's compiled check, the ledger, the clock), so every rule of
 * docs/fleet.md "Safety" is one line here and a unit test. Refusals never throw: a hostile or broken origin costs
 * a counter, not the service.
 */
import type { FleetConfig } from '../../config/types.js';
import type { BanRefusal, RefusalCode } from '../../safety/ban-guard.js';
import type { JailSpec } from '../../bans/jails.js';
import type { Family } from '../../model.js';
import type { FleetEvent } from './event.js';
import type { Ledger } from './ledger.js';

export type RefuseReason = 'malformed' | 'origin-mismatch' | 'not-accepted' | 'jail-not-shared' | 'family' | 'rate' | 'cap' | RefusalCode;
export type SkipReason = 'own' | 'expired' | 'lifted-here' | 'not-banned-here';

export type Verdict =
  | { readonly kind: 'ban'; readonly jail: JailSpec; readonly family: Family; readonly ip: string; readonly end: number | null; readonly changed: boolean }
  | { readonly kind: 'unban'; readonly jail: JailSpec; readonly family: Family; readonly ip: string; readonly remove: boolean }
  | { readonly kind: 'skip'; readonly why: SkipReason }
  | { readonly kind: 'refuse'; readonly why: RefuseReason; readonly detail: string };

/**
 * A token bucket per origin, filled by the stream's own timestamps (the server's clock, which an origin cannot
 * set): the same events are judged the same whether they arrive live or in a catch-up hours later.
 */
export class OriginRate {
  private readonly buckets = new Map<string, { tokens: number; t: number }>();
  constructor(private readonly rate: FleetConfig['originRate']) {}
  take(origin: string, t: number): boolean {
    const perMs = this.rate.count / (this.rate.seconds * 1000);
    const b = this.buckets.get(origin) ?? { tokens: this.rate.count, t };
    b.tokens = Math.min(this.rate.count, b.tokens + Math.max(0, t - b.t) * perMs);
    b.t = Math.max(b.t, t);
    this.buckets.set(origin, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

export interface JudgeFacts {
  readonly self: string;
  readonly fleet: Pick<FleetConfig, 'acceptFrom' | 'originMax'>;
  /** This host's shared jails by service name. */
  readonly jails: ReadonlyMap<string, JailSpec>;
  readonly guard: (ip: string) => BanRefusal | undefined;
  readonly ledger: Ledger;
  readonly rate: OriginRate;
  readonly now: number;
}

const familyOf = (ip: string): Family => (ip.includes(':') ? 'ipv6' : 'ipv4');

/** `streamTime`: when the engine stored the event (ms), the rate limit's clock. */
export function judge(e: FleetEvent, streamTime: number, f: JudgeFacts): Verdict {
  if (e.origin === f.self) return { kind: 'skip', why: 'own' };
  if (f.fleet.acceptFrom !== 'all' && !f.fleet.acceptFrom.includes(e.origin)) {
    return { kind: 'refuse', why: 'not-accepted', detail: `${e.origin} is not in FLEET_ACCEPT_FROM` };
  }
  const jail = f.jails.get(e.jail);
  if (!jail) return { kind: 'refuse', why: 'jail-not-shared', detail: `jail tsfw-${e.jail} is not shared here` };
  const family = familyOf(e.ip);
  if (!jail.targets[family]) return { kind: 'refuse', why: 'family', detail: `${e.ip}: no ${family === 'ipv6' ? 'IPv6' : 'IPv4'} ban set here (IPV6=mirror makes one)` };
  if (e.op === 'unban') {
    if (!f.ledger.has(jail.service.name, e.ip, e.origin)) return { kind: 'skip', why: 'not-banned-here' };
    return { kind: 'unban', jail, family, ip: e.ip, remove: f.ledger.unban(jail.service.name, e.ip, e.origin) };
  }
  if (e.expiresAt !== null && e.expiresAt <= f.now) return { kind: 'skip', why: 'expired' };
  const refusal = f.guard(e.ip);
  if (refusal) return { kind: 'refuse', why: refusal.code, detail: `${e.ip} from ${e.origin}: ${refusal.reason}` };
  if (f.ledger.liftedAfter(jail.service.name, e.ip, e.at)) return { kind: 'skip', why: 'lifted-here' };
  const known = f.ledger.has(jail.service.name, e.ip, e.origin);
  if (!known && f.ledger.count(e.origin) >= f.fleet.originMax) {
    return { kind: 'refuse', why: 'cap', detail: `${e.origin} already holds ${f.fleet.originMax} bans here (FLEET_ORIGIN_MAX)` };
  }
  if (!f.rate.take(e.origin, streamTime)) return { kind: 'refuse', why: 'rate', detail: `${e.origin} bans faster than FLEET_ORIGIN_RATE allows` };
  const before = f.ledger.end(jail.service.name, e.ip);
  const end = f.ledger.ban(jail.service.name, e.ip, e.origin, e.expiresAt);
  // The kernel entry only needs touching when this ban outlasts what it holds already.
  return { kind: 'ban', jail, family, ip: e.ip, end, changed: before === undefined || end !== before };
}
