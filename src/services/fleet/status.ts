/**
 * What the fleet service has done, kept in memory and written to the state directory (fleet-status.json) every
 * couple of seconds, so `tsfirewall fleet status` (and anything else that reports, such as a metrics exporter)
 * reads it without connecting to the engine or to the service.
 */
import { stateDir } from '../../state/dirs.js';
import { readStateFile, writeStateFile } from '../../state/write.js';

export const STATUS_FILE = 'fleet-status.json';

export interface HostSeen { lastEvent: { op: string; ip: string; jail: string; at: number }; lastSeen: number; received: number }

export interface FleetStatus {
  version: 1;
  name: string;
  pid: number;
  startedAt: number;
  updatedAt: number;
  connection: { state: 'connecting' | 'connected' | 'disconnected' | 'closed'; server?: string; since: number; lastError?: string };
  /** Catch-up: the replay of the stream's active bans at connect, then live. */
  catchUp: { done: boolean; replayed: number; tookMs?: number };
  sent: { bans: number; unbans: number; dropped: number };
  outbox: { files: number; oldest?: number };
  received: { applied: number; unbans: number; skipped: Record<string, number> };
  refused: Record<string, number>;
  /** The last few refusals with their detail, newest last. */
  lastRefusals: { at: number; reason: string; detail: string }[];
  hosts: Record<string, HostSeen>;
  /** Replication lag: from the engine storing an event to it being in this host's kernel. */
  lag: { lastMs?: number; maxMs?: number; pending?: number };
  active: { total: number; byOrigin: Record<string, number> };
  kernelErrors: number;
  lastKernelError?: string;
  /** The last reconcile with the kernel's sets: when it ended, what it put back, how long it took. */
  reconcile?: { at: number; added: number; tookMs: number; error?: string };
  /** process.memoryUsage() at the last write, in bytes: for a metrics reader and the bench. */
  memory?: { rss: number; heapUsed: number; heapTotal: number; external: number };
}

export function newStatus(name: string, now = Date.now()): FleetStatus {
  return {
    version: 1, name, pid: process.pid, startedAt: now, updatedAt: now,
    connection: { state: 'connecting', since: now },
    catchUp: { done: false, replayed: 0 },
    sent: { bans: 0, unbans: 0, dropped: 0 },
    outbox: { files: 0 },
    received: { applied: 0, unbans: 0, skipped: {} },
    refused: {},
    lastRefusals: [],
    hosts: {},
    lag: {},
    active: { total: 0, byOrigin: {} },
    kernelErrors: 0,
  };
}

const KEEP_REFUSALS = 20;

export function countRefusal(s: FleetStatus, reason: string, detail: string, now = Date.now()): void {
  s.refused[reason] = (s.refused[reason] ?? 0) + 1;
  s.lastRefusals.push({ at: now, reason, detail: detail.slice(0, 200) });
  if (s.lastRefusals.length > KEEP_REFUSALS) s.lastRefusals.splice(0, s.lastRefusals.length - KEEP_REFUSALS);
}

export function writeStatus(s: FleetStatus, dir = stateDir()): void {
  s.updatedAt = Date.now();
  const m = process.memoryUsage();
  s.memory = { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  writeStateFile(dir, STATUS_FILE, JSON.stringify(s) + '\n');
}

export function readStatus(dir = stateDir()): FleetStatus | undefined {
  try {
    const text = readStateFile(dir, STATUS_FILE);
    const parsed = text === undefined ? undefined : (JSON.parse(text) as FleetStatus);
    return parsed?.version === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote it still runs (a stale file from a killed service says so). */
export function serviceAlive(s: Pick<FleetStatus, 'pid'>): boolean {
  try { process.kill(s.pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

const ago = (now: number, t: number) => { const s = Math.max(0, Math.round((now - t) / 1000)); return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`; };
const counts = (r: Record<string, number>) => Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

/** The text `fleet status` prints. */
export function formatStatus(s: FleetStatus, alive: boolean, now = Date.now()): string {
  const c = s.connection;
  const lines = [
    `fleet ${s.name}: service ${alive ? `running (pid ${s.pid}, since ${ago(now, s.startedAt)})` : 'not running (last status below)'}`,
    `engine: ${c.state}${c.server ? ` to ${c.server}` : ''} since ${ago(now, c.since)}${c.lastError ? ` (last error: ${c.lastError})` : ''}`,
    `catch-up: ${s.catchUp.done ? `done, ${s.catchUp.replayed} events replayed${s.catchUp.tookMs === undefined ? '' : ` in ${s.catchUp.tookMs} ms`}` : `in progress, ${s.catchUp.replayed} so far`}`,
    `sent: ${s.sent.bans} bans, ${s.sent.unbans} unbans; outbox ${s.outbox.files} file${s.outbox.files === 1 ? '' : 's'} waiting${s.outbox.oldest ? ` (oldest ${ago(now, s.outbox.oldest)})` : ''}${s.sent.dropped ? `; ${s.sent.dropped} malformed dropped` : ''}`,
    `received: ${s.received.applied} bans applied, ${s.received.unbans} unbans; skipped: ${counts(s.received.skipped)}`,
    `refused: ${counts(s.refused)}`,
    ...s.lastRefusals.slice(-5).map((r) => `  ${ago(now, r.at)} ${r.reason}: ${r.detail}`),
    `lag: ${s.lag.lastMs === undefined ? 'no event yet' : `last ${s.lag.lastMs} ms, max ${s.lag.maxMs} ms`}${s.lag.pending ? `, ${s.lag.pending} events pending` : ''}`,
    `active remote bans here: ${s.active.total}${Object.keys(s.active.byOrigin).length ? ` (${counts(s.active.byOrigin)})` : ''}`,
    ...(s.kernelErrors ? [`kernel errors: ${s.kernelErrors} (last: ${s.lastKernelError})`] : []),
    ...(s.reconcile ? [`reconcile: ${ago(now, s.reconcile.at)}, ${s.reconcile.error ? `failed: ${s.reconcile.error}` : `${s.reconcile.added} put back`} (${s.reconcile.tookMs} ms)`] : []),
    `hosts seen:${Object.keys(s.hosts).length === 0 ? ' none' : ''}`,
    ...Object.entries(s.hosts).sort().map(([h, v]) => `  ${h}: ${v.received} events, last ${v.lastEvent.op} ${v.lastEvent.ip} (${v.lastEvent.jail}) ${ago(now, v.lastSeen)}`),
  ];
  return lines.join('\n') + '\n';
}
