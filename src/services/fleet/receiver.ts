/**
 * Other hosts' events into this host's kernel: each message decoded and judged (judge.ts), the verdicts of a burst
 * gathered for a few milliseconds and applied as one batch per set (kernel.ts), with every outcome counted in the
 * status. One batch runs at a time; messages that come meanwhile wait for the next, so a burst of 10k costs a
 * handful of programs, and a single ban waits at most GATHER_MS before its program starts.
 */
import type { FirewallBackend } from '../../backend/types.js';
import { log } from '../../log.js';
import { decodeEvent } from './event.js';
import { judge, type JudgeFacts, type Verdict } from './judge.js';
import { applyBatch, planBatch } from './kernel.js';
import { countRefusal, type FleetStatus } from './status.js';

const GATHER_MS = 5;
const MAX_BATCH = 20_000;

type Applied = Extract<Verdict, { kind: 'ban' | 'unban' }>;

export interface Receiver {
  /** One stored message: its subject, body, when the engine stored it (ms) and how many are still pending after it. */
  take(subject: string, data: Uint8Array, storedAt: number, pending: number): void;
  /** Resolves once everything taken so far is in the kernel. */
  settled(): Promise<void>;
}

export function makeReceiver(opts: {
  readonly backend: FirewallBackend;
  readonly stateDir: string;
  readonly status: FleetStatus;
  /** Fresh facts for each batch (the guard's are refreshed by the caller on its own clock). */
  readonly facts: () => JudgeFacts;
  /** Live (past the catch-up): lag is measured from here on. */
  readonly live: () => boolean;
  readonly kernelFailed: () => void;
}): Receiver {
  const s = opts.status;
  let waiting: { v: Applied; storedAt: number; live: boolean }[] = [];
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let scheduled = false;

  const flush = async () => {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    const failures = await applyBatch(opts.backend, planBatch(batch.map((b) => b.v), Date.now()), opts.stateDir);
    if (failures.length > 0) {
      s.kernelErrors += failures.length;
      s.lastKernelError = failures[0];
      log.warn(`fleet: the kernel refused remote bans (${failures.join('; ')}); retried by the next reconcile`);
      opts.kernelFailed();
    }
    const now = Date.now();
    const live = batch.filter((b) => b.live);
    if (live.length > 0) {
      s.lag.lastMs = now - live[live.length - 1]!.storedAt;
      s.lag.maxMs = Math.max(s.lag.maxMs ?? 0, ...live.map((b) => now - b.storedAt));
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    clearTimeout(timer);
    timer = setTimeout(() => { chain = chain.then(flush, flush); }, GATHER_MS);
  };

  return {
    take(subject, data, storedAt, pending) {
      s.lag.pending = pending;
      const decoded = decodeEvent(subject, data);
      if (!decoded.ok) {
        countRefusal(s, decoded.reason, decoded.detail);
        log.warn(`fleet: dropped an event on ${subject.slice(0, 100)}: ${decoded.reason}: ${decoded.detail}`);
        return;
      }
      const e = decoded.event;
      if (e.origin !== opts.status.name) {
        const h = s.hosts[e.origin] ?? { received: 0, lastSeen: 0, lastEvent: { op: e.op, ip: e.ip, jail: e.jail, at: e.at } };
        h.received++;
        h.lastSeen = Date.now();
        h.lastEvent = { op: e.op, ip: e.ip, jail: e.jail, at: e.at };
        s.hosts[e.origin] = h;
      }
      let v: Verdict;
      try { v = judge(e, storedAt, opts.facts()); } catch (err) {
        countRefusal(s, 'malformed', `${e.ip} from ${e.origin}: ${(err as Error).message}`);
        return;
      }
      if (v.kind === 'refuse') { countRefusal(s, v.why, v.detail); log.info(`fleet: refused ${e.op} of ${e.ip} from ${e.origin}: ${v.why} (${v.detail})`); return; }
      if (v.kind === 'skip') { s.received.skipped[v.why] = (s.received.skipped[v.why] ?? 0) + 1; return; }
      if (v.kind === 'ban') s.received.applied++; else s.received.unbans++;
      waiting.push({ v, storedAt, live: opts.live() });
      if (waiting.length >= MAX_BATCH) { clearTimeout(timer); scheduled = true; chain = chain.then(flush, flush); } else schedule();
    },
    async settled() {
      while (scheduled || waiting.length > 0) { await new Promise((r) => setTimeout(r, GATHER_MS)); await chain; }
      await chain;
    },
  };
}
