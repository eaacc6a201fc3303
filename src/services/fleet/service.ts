/**
 * `tsfirewall fleet`: the long-running service that joins this host to the fleet. It publishes what the outbox
 * holds, replays the stream's latest word on every ban at each connect (catch-up) and then follows it live, applies
 * what the judge accepts through the backend's ban store, and keeps the ledger and the status file. It never holds
 * the verb lock and nothing waits on it: the ban verbs only write the outbox, start and stop never talk to it.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { ConsumerMessages, JetStreamManager, NatsConnection } from 'nats';
import type { FirewallBackend } from '../../backend/types.js';
import { liftExpiredChainBans } from '../../bans/expiry.js';
import { jailsOf, type JailSpec } from '../../bans/jails.js';
import type { Config, FleetConfig } from '../../config/types.js';
import { log } from '../../log.js';
import { banGuardFacts } from '../../safety/ban-facts.js';
import { guardFor, type BanRefusal } from '../../safety/ban-guard.js';
import { connectFleet, loadNats, type Nats } from './connect.js';
import { STREAM, SUBJECT_ROOT } from './event.js';
import { OriginRate, type JudgeFacts } from './judge.js';
import { readLedger, writeLedger, type Ledger } from './ledger.js';
import { ensureOutbox } from '../../bans/outbox.js';
import { makePublisher } from './publisher.js';
import { makeReceiver } from './receiver.js';
import { reconcile } from './reconcile.js';
import { afterBursts, collectGarbage } from './settle.js';
import { newStatus, writeStatus, type FleetStatus } from './status.js';
import { ensureStream } from './stream.js';

/** Shared jails by service name: FLEET_JAILS of this host's jails. */
export function sharedJails(config: Config): Map<string, JailSpec> {
  const fleet = config.fleet!;
  return new Map(jailsOf(config).filter((j) => fleet.jails === 'all' || fleet.jails.includes(j.service.name)).map((j) => [j.service.name, j]));
}

const FACTS_MS = 2_000;
const STATUS_MS = 2_000;
const LEDGER_MS = 5_000;
const EXPIRE_MS = 30_000;
const RECONCILE_MS = 300_000;
const DRAIN_MS = 1_000;

export interface FleetService { readonly done: Promise<void>; stop(): Promise<void>; readonly status: FleetStatus }

export function startFleet(config: Config, backend: FirewallBackend, dir: string): FleetService {
  const fleet: FleetConfig = config.fleet!;
  const jails = sharedJails(config);
  const status = newStatus(fleet.name);
  const ledger: Ledger = readLedger(dir);
  const rate = new OriginRate(fleet.originRate);
  const outbox = ensureOutbox(dir);
  let guard: (ip: string) => BanRefusal | undefined = () => undefined;
  let factsAt = 0;
  let stopping = false;
  let nc: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  const timers: NodeJS.Timeout[] = [];
  let watcher: FSWatcher | undefined;

  const refreshFacts = async () => {
    try { guard = guardFor(await banGuardFacts(config)); factsAt = Date.now(); } catch (err) { log.warn(`fleet: ban guard facts not refreshed: ${(err as Error).message}`); }
  };
  const facts = (): JudgeFacts => ({ self: fleet.name, fleet, jails, guard, ledger, rate, now: Date.now() });
  let reconcileSoon: NodeJS.Timeout | undefined;
  const runReconcile = async () => {
    collectGarbage();
    const started = Date.now();
    try {
      const r = await reconcile(backend, jails, ledger, fleet.name, dir);
      status.reconcile = { at: Date.now(), added: r.added, tookMs: Date.now() - started };
      if (r.added > 0) log.info(`fleet: put back ${r.added} remote ban${r.added === 1 ? '' : 's'} the kernel had lost`);
    } catch (err) {
      status.reconcile = { at: Date.now(), added: 0, tookMs: Date.now() - started, error: (err as Error).message.slice(0, 200) };
      log.warn(`fleet: reconcile failed: ${(err as Error).message}`);
    }
    collectGarbage();
  };
  const kernelFailed = () => { clearTimeout(reconcileSoon); reconcileSoon = setTimeout(() => void runReconcile(), 10_000); };
  const receiver = makeReceiver({ backend, stateDir: dir, status, facts: () => { if (Date.now() - factsAt > FACTS_MS) void refreshFacts(); return facts(); }, live: () => status.catchUp.done, kernelFailed });
  const publisher = makePublisher({
    dir: outbox, self: fleet.name, status, shared: (j) => jails.has(j),
    local: (events) => {
      let lifted = false;
      for (const e of events) {
        if (e.op === 'ban') ledger.ban(e.jail, e.ip, fleet.name, e.expiresAt);
        else if (e.reason === 'fail2ban') { ledger.unban(e.jail, e.ip, fleet.name); lifted = true; }
        else ledger.liftHere(e.jail, e.ip, e.at);
      }
      // fail2ban's unban took the kernel entry whatever other hosts' bans it also stood for.
      if (lifted) kernelFailed();
    },
  });
  let draining: Promise<void> | undefined;
  let again = false;
  const drain = () => {
    if (draining) { again = true; return; }
    draining = (async () => {
      do { again = false; await publisher.drain(status.connection.state === 'connected' && nc ? nc.jetstream() : undefined); } while (again && !stopping);
    })().catch((err) => log.warn(`fleet: outbox: ${(err as Error).message}`)).finally(() => { draining = undefined; });
  };
  const saveStatus = () => {
    status.active = { total: 0, byOrigin: {} };
    for (const h of Object.keys(status.hosts)) { status.active.byOrigin[h] = ledger.count(h); status.active.total += ledger.count(h); }
    try { writeStatus(status, dir); } catch (err) { log.debug(`fleet: status not written: ${(err as Error).message}`); }
  };
  const saveLedger = () => { if (ledger.dirty) { try { writeLedger(ledger, dir); } catch (err) { log.warn(`fleet: ledger not written: ${(err as Error).message}`); } } };
  const every = (ms: number, f: () => void) => { const t = setInterval(f, ms); t.unref(); timers.push(t); };

  /** The stream sequence of the last message taken: a follow after a stall resumes after it. */
  let lastSeq = 0;
  const follow = async (nats: Nats, conn: NatsConnection) => {
    await ensureStream(conn, fleet);
    const js = conn.jetstream();
    const jsm = await conn.jetstreamManager();
    const started = Date.now();
    // A first follow (or one whose catch-up never finished) replays the latest word on every ban; a later one, after
    // a stall, takes up where the last left off.
    const resume = status.catchUp.done && lastSeq > 0;
    if (!resume) status.catchUp = { done: false, replayed: 0 };
    // One filter as a string: a list is nats-server 2.10's, and Debian 12 ships 2.9.
    const consumer = await js.consumers.get(STREAM, resume
      ? { filterSubjects: `${SUBJECT_ROOT}.>`, deliver_policy: nats.DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
      : { filterSubjects: `${SUBJECT_ROOT}.>`, deliver_policy: nats.DeliverPolicy.LastPerSubject });
    const finishCatchUp = () => {
      if (status.catchUp.done) return;
      status.catchUp.done = true;
      status.catchUp.tookMs = Date.now() - started;
      log.info(`fleet: caught up: ${status.catchUp.replayed} events replayed in ${status.catchUp.tookMs} ms`);
      void receiver.settled().then(runReconcile);
    };
    if (!resume && (await jsm.streams.info(STREAM)).state.messages === 0) finishCatchUp();
    const settle = afterBursts({ minEvents: 1_000, quietMs: 2_000, everyEvents: 20_000 });
    let msgs: ConsumerMessages | undefined;
    let stalled = () => {};
    const stall = new Promise<'stalled'>((resolve) => { stalled = () => resolve('stalled'); });
    // Watched from before the consumer exists: its creation can hang too, retried by the client against a node
    // that is gone; a follow that stalls is abandoned for a fresh one.
    const watchdog = stallWatchdog(jsm, () => lastSeq, () => {
      log.warn(`fleet: the stream holds events past ${lastSeq} that are not coming (its consumer was lost with a node?); following it again`);
      stalled();
      msgs?.stop();
    });
    try {
      const got = await Promise.race([consumer.consume({ max_messages: 2_000, expires: 10_000 }), stall]);
      if (got === 'stalled') return;
      msgs = got;
      messages = got;
      for await (const m of got) {
        if (!status.catchUp.done) status.catchUp.replayed++;
        lastSeq = Math.max(lastSeq, m.seq);
        receiver.take(m.subject, m.data, Math.floor(m.info.timestampNanos / 1e6), m.info.pending);
        settle.event();
        if (m.info.pending === 0) finishCatchUp();
      }
    } finally {
      clearInterval(watchdog);
      settle.stop();
    }
  };

  const done = (async () => {
    await refreshFacts();
    watcher = watchOutbox(outbox, drain);
    every(DRAIN_MS, drain);
    every(STATUS_MS, saveStatus);
    every(LEDGER_MS, saveLedger);
    every(EXPIRE_MS, () => {
      ledger.expire(Date.now());
      void liftExpiredChainBans(backend, [...jails.values()], Date.now(), dir).catch((err) => log.warn(`fleet: chain bans not lifted: ${(err as Error).message}`));
    });
    every(RECONCILE_MS, () => void runReconcile());
    drain();
    const nats = await loadNats();
    nc = await connectFleet(nats, fleet);
    watchConnection(nc, status, drain);
    while (!stopping) {
      try {
        await follow(nats, nc);
        if (!stopping) await new Promise((r) => setTimeout(r, 500));
      } catch (err) {
        if (stopping || nc.isClosed()) break;
        status.connection.lastError = (err as Error).message;
        log.warn(`fleet: following the stream failed (${(err as Error).message}); trying again`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
      if (nc.isClosed()) break;
    }
  })();

  return {
    status,
    done,
    async stop() {
      stopping = true;
      for (const t of timers) clearInterval(t);
      clearTimeout(reconcileSoon);
      watcher?.close();
      messages?.stop();
      await receiver.settled();
      // Bounded: with the engine away, close() would wait on a flush that cannot happen.
      await Promise.race([nc?.close(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      status.connection = { ...status.connection, state: 'closed', since: Date.now() };
      saveLedger();
      saveStatus();
    },
  };
}

function watchOutbox(dir: string, drain: () => void): FSWatcher | undefined {
  try { return watch(`${dir}/new`, { persistent: false }, () => drain()); } catch { return undefined; }
}

function watchConnection(nc: NatsConnection, status: FleetStatus, drain: () => void): void {
  status.connection = { state: 'connected', server: nc.getServer(), since: Date.now() };
  log.info(`fleet: connected to ${nc.getServer()}`);
  void (async () => {
    for await (const s of nc.status()) {
      const type = String(s.type);
      if (type === 'disconnect') { status.connection = { ...status.connection, state: 'disconnected', since: Date.now() }; log.warn(`fleet: disconnected from ${String(s.data)}`); }
      else if (type === 'reconnect') { status.connection = { state: 'connected', server: String(s.data), since: Date.now() }; log.info(`fleet: reconnected to ${String(s.data)}`); drain(); }
      else if (type === 'error') status.connection.lastError = String(s.data);
    }
  })();
}

const WATCH_MS = 5_000;

/**
 * The client's ordered consumer is meant to recreate itself when the node holding it goes, and here it did not
 * always (nats.js 2.29 against nats-server 2.9, a host whose node was killed): so the service checks for itself.
 * When the stream has events past the last one taken and three checks in a row saw no progress, `stalled` runs.
 */
function stallWatchdog(jsm: JetStreamManager, taken: () => number, stalled: () => void): NodeJS.Timeout {
  let seen = taken();
  let still = 0;
  const t = setInterval(() => {
    void jsm.streams.info(STREAM).then((si) => {
      const now = taken();
      still = now === seen && si.state.last_seq > now && si.state.last_seq >= si.state.first_seq ? still + 1 : 0;
      seen = now;
      if (still >= 3) { still = 0; stalled(); }
    }, () => { /* the engine is away: the connection's own reconnect deals with that */ });
  }, WATCH_MS);
  t.unref();
  return t;
}
