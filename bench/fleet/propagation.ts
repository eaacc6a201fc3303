/**
 * Propagation of one ban from host A to the set on every other host, tsfirewall's fleet and CrowdSec side by side:
 * in each round both ban an address of their own, in a shuffled order, each waited for on every receiver before the
 * next, so load and drift on this shared machine fall on both alike. Before each ban the bench waits a random part of
 * the bouncers' poll period, so a ban lands at a random point of their cycle rather than just after the poll that
 * ended the previous round.
 */
import { banAddress } from '../../test/harness/ban-addresses.js';
import { quantile } from '../lib/stats.js';
import type { CrowdsecLab } from './crowdsec.js';
import { inSet, queue, seenBy, sleep, type BHost, type Watched } from './hosts.js';

/** The fleet's propagation bans take indexes below this (the bench's burst starts there). */
const FLEET_INDEX_END = 1000;
/** CrowdSec's bans come from a range no other part of the bench uses. */
const CROWDSEC_INDEX = 125_000;

export interface Samples {
  /** Outbox write on A to the element in each receiver's set (ms), one per receiver and round. */
  readonly fleet: number[];
  /** `cscli decisions add` issued on A to the element in each receiver's bouncer set (ms). */
  readonly crowdsec: number[];
  /** The same from cscli's exit, when the LAPI holds the decision (ms). */
  readonly crowdsecFromAck: number[];
  /** How long cscli itself took (ms), one per round. */
  readonly cscli: number[];
  /** CrowdSec bans the LAPI refused (cscli's error), one per refused round. */
  readonly refused: string[];
  /** Deliveries given up on after the round's ceiling, per system. */
  readonly lost: Record<Watched, Lost[]>;
}

/** A delivery given up on, and whether the kernel's set held it by the phase's end after all. */
export interface Lost { readonly host: string; readonly ip: string; inSetAtEnd: boolean }

/** Hands out each system's ban addresses across calls, so no address is banned twice in one run. */
export class Addresses {
  private fleetNext = 0;
  private crowdsecNext = 0;
  fleet(): string {
    if (this.fleetNext >= FLEET_INDEX_END) throw new RangeError(`more than ${FLEET_INDEX_END} propagation bans`);
    return banAddress(this.fleetNext++);
  }
  crowdsec(): string { return banAddress(CROWDSEC_INDEX + this.crowdsecNext++); }
  /** How many fleet bans were placed: they stay active on every host, which later parts of the bench count. */
  get fleetPlaced(): number { return this.fleetNext; }
}

export interface RoundsOptions {
  readonly a: BHost;
  readonly receivers: readonly BHost[];
  /** Absent: the fleet alone (CrowdSec could not run here). */
  readonly crowdsec?: CrowdsecLab;
  readonly rounds: number;
  /** The bouncers' update_frequency in ms: the random wait before each ban is up to this. */
  readonly periodMs: number;
  readonly addresses: Addresses;
  readonly rand: () => number;
}

/** Runs `rounds` interleaved rounds and returns every sample, sorted. */
export async function interleaved(o: RoundsOptions): Promise<Samples> {
  const s: Samples = { fleet: [], crowdsec: [], crowdsecFromAck: [], cscli: [], refused: [], lost: { tsfirewall: [], crowdsec: [] } };
  // Generous for a slow moment of this 2-core machine, and at least three poll periods for CrowdSec's bouncers: a
  // delivery still missing then is counted as lost, not waited for (it is checked again at the phase's end).
  const ceiling = { tsfirewall: 30_000, crowdsec: Math.max(10_000, 3 * o.periodMs + 5000) };
  const arrivals = async (ip: string, table: Watched, from: number, into: number[]) => {
    const times = await seenBy(o.receivers, [ip], ceiling[table], table);
    times.forEach((t, i) => { if (t === undefined) s.lost[table].push({ host: o.receivers[i]!.name, ip, inSetAtEnd: false }); else into.push(t - from); });
    return times;
  };
  const fleetRound = async () => {
    const ip = o.addresses.fleet();
    await arrivals(ip, 'tsfirewall', queue(o.a, [ip]), s.fleet);
  };
  const crowdsecRound = async (cs: CrowdsecLab) => {
    const ip = o.addresses.crowdsec();
    const { issued, acked, refused } = await cs.ban(ip);
    if (refused !== undefined) { s.refused.push(refused); return; }
    s.cscli.push(acked - issued);
    for (const t of await arrivals(ip, 'crowdsec', issued, s.crowdsec)) if (t !== undefined) s.crowdsecFromAck.push(t - acked);
  };
  for (let i = 0; i < o.rounds; i++) {
    const order = o.crowdsec && o.rand() < 0.5 ? ['crowdsec', 'fleet'] : ['fleet', 'crowdsec'];
    for (const which of order) {
      await sleep(o.rand() * o.periodMs);
      if (which === 'fleet') await fleetRound();
      else if (o.crowdsec) await crowdsecRound(o.crowdsec);
    }
    await sleep(50);
  }
  const byName = new Map(o.receivers.map((h) => [h.name, h]));
  for (const table of ['tsfirewall', 'crowdsec'] as const) for (const l of s.lost[table]) l.inSetAtEnd = inSet(byName.get(l.host)!, l.ip, table);
  for (const a of [s.fleet, s.crowdsec, s.crowdsecFromAck, s.cscli]) a.sort((x, y) => x - y);
  return s;
}

/** The bans the LAPI refused, for CrowdSec's row: how many, and the reasons it gave. */
export function refusedText(refused: readonly string[], rounds: number): string {
  if (refused.length === 0) return '';
  return `; the LAPI refused ${refused.length} of ${rounds} bans: ${[...new Set(refused)].slice(0, 2).map((r) => `"${r}"`).join(', ')}`;
}

/** The deliveries a round's ceiling gave up on, for a row: how many, and how many the set still lacked at the end. */
export function lostText(lost: readonly Lost[], delivered: number): string {
  if (lost.length === 0) return '';
  const missing = lost.filter((l) => !l.inSetAtEnd);
  const named = missing.slice(0, 3).map((l) => `${l.ip} on ${l.host}`).join(', ') + (missing.length > 3 ? ', ...' : '');
  return `; ${lost.length} of ${lost.length + delivered} deliveries missed their round's ceiling: ${missing.length} not in the set at the phase's end${missing.length ? ` (${named})` : ''}, ${lost.length - missing.length} in it by then`;
}

/** "p50 22 ms, p99 44 ms" */
export const p50p99 = (sorted: readonly number[]) => `p50 ${quantile(sorted, 0.5).toFixed(0)} ms, p99 ${quantile(sorted, 0.99).toFixed(0)} ms`;

/** The fleet's p50 and p99 over CrowdSec's, from cscli's issue and from its exit: how the two compare. */
export function ratios(s: Samples): { p50: number; p99: number; p50FromAck: number; p99FromAck: number } {
  const over = (a: readonly number[], b: readonly number[], q: number) => quantile(a, q) / quantile(b, q);
  return { p50: over(s.fleet, s.crowdsec, 0.5), p99: over(s.fleet, s.crowdsec, 0.99), p50FromAck: over(s.fleet, s.crowdsecFromAck, 0.5), p99FromAck: over(s.fleet, s.crowdsecFromAck, 0.99) };
}
