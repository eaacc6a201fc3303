/**
 * Drains the outbox into the stream: oldest file first, each event published with a message id (file and line), so
 * a file published again after a crash between the acks and its removal is stored once (JetStream's duplicate
 * window). A file goes only when the engine has acknowledged all of it; with the engine away the files wait, the
 * outbox bounding them (outbox.ts). Every file is also read once at once, connected or not, so the ledger knows
 * this host's own bans before a remote unban of the same address comes.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { JetStreamClient } from 'nats';
import { log } from '../../log.js';
import { encodeEvent, subjectOf, type FleetEvent } from './event.js';
import { parseOutbox, pendingFiles, readOutboxFile, removeOutboxFile, type OutboxLine } from '../../bans/outbox.js';
import type { FleetStatus } from './status.js';

/** Publishes in flight at once: acks pipeline, memory stays bounded for a 10k batch. */
const WINDOW = 1000;

export interface Publisher {
  /** Reads new files (for the ledger), then publishes what it can; never throws. */
  drain(js: JetStreamClient | undefined): Promise<void>;
}

/** Pure: an outbox line as the event the fleet sees (times to ms; an unban dated when it was queued, not banned). */
export function eventOf(line: OutboxLine, origin: string, queuedAt: number): FleetEvent {
  const at = line.op === 'unban' ? Math.max(Math.round(line.at * 1000), queuedAt) : Math.round(line.at * 1000);
  const expiresAt = line.op === 'ban' && line.bantime !== undefined && line.bantime > 0 ? at + Math.round(line.bantime * 1000) : null;
  return { v: 1, op: line.op, ip: line.ip, jail: line.jail, origin, at, expiresAt, reason: line.reason };
}

export function makePublisher(opts: {
  readonly dir: string;
  readonly self: string;
  readonly shared: (jail: string) => boolean;
  readonly status: FleetStatus;
  /** Called once per file with its events, before it is published. */
  readonly local: (events: readonly FleetEvent[]) => void;
}): Publisher {
  const seen = new Map<string, FleetEvent[]>();
  let failing = false;
  return {
    async drain(js) {
      let files: string[];
      try { files = pendingFiles(opts.dir); } catch (err) { log.warn(`fleet: cannot read the outbox: ${(err as Error).message}`); return; }
      opts.status.outbox = { files: files.length, ...(files.length ? { oldest: Math.round(Number.parseFloat(files[0]!) * 1000) || undefined } : {}) };
      for (const name of files) {
        if (seen.has(name)) continue;
        const text = readOutboxFile(opts.dir, name);
        if (text === undefined) continue;
        const { lines, bad } = parseOutbox(text);
        if (bad > 0) { opts.status.sent.dropped += bad; log.warn(`fleet: ${bad} malformed line${bad === 1 ? '' : 's'} in outbox file ${name}; dropped`); }
        let queuedAt = Date.now();
        try { queuedAt = statSync(join(opts.dir, 'new', name)).mtimeMs; } catch { /* gone: published elsewhere */ }
        const events = lines.filter((l) => opts.shared(l.jail)).map((l) => eventOf(l, opts.self, Math.round(queuedAt)));
        seen.set(name, events);
        opts.local(events);
      }
      for (const name of [...seen.keys()]) if (!files.includes(name)) seen.delete(name);
      if (!js) return;
      for (const name of files) {
        const events = seen.get(name);
        if (!events) continue;
        try {
          for (let i = 0; i < events.length; i += WINDOW) {
            await Promise.all(events.slice(i, i + WINDOW).map((e, j) => js.publish(subjectOf(e), encodeEvent(e), { msgID: `${opts.self}:${name}:${i + j}` })));
          }
        } catch (err) {
          if (!failing) log.warn(`fleet: publishing ${name} failed (${(err as Error).message}); kept for the next try`);
          failing = true;
          return;
        }
        failing = false;
        for (const e of events) { if (e.op === 'ban') opts.status.sent.bans++; else opts.status.sent.unbans++; }
        removeOutboxFile(opts.dir, name);
        seen.delete(name);
        opts.status.outbox.files = Math.max(0, opts.status.outbox.files - 1);
      }
      if (opts.status.outbox.files === 0) delete opts.status.outbox.oldest;
    },
  };
}
