/**
 * The address watcher's guard over the loaded rules: it notices, within seconds, a change from outside that leaves
 * them not intact (status's question, status/intact.ts) and hands the problems to the watcher, which reloads. A
 * check is the lock-free read status makes (nothing locked, nothing changed), so only a ruleset found not intact
 * costs a reload. How changes are noticed depends on the backend the record names:
 * - nftables: `nft monitor ruleset` prints every change to the ruleset as it happens; a change in our table (set
 *   elements aside: bans come and go) is checked once its burst has been quiet for a moment.
 * - iptables: legacy iptables tells nobody about changes, and iptables-nft's notifications would need nft, which an
 *   iptables host may not have. So the ruleset is read every 2 s, and only while the watcher is idle and the
 *   firewall started (a record exists): the same iptables-save per family status runs, a few ms of a core each.
 */
import { backendNamed } from '../backend/choose.js';
import type { FirewallBackend } from '../backend/types.js';
import { BACKEND_NAMES, type BackendName } from '../config/types.js';
import { follow, type Followed } from '../exec/run.js';
import { which } from '../exec/which.js';
import { log } from '../log.js';
import { readLoaded } from '../state/loaded.js';
import { loadedBy } from './intact.js';

/** How often iptables' rules are read, and how often the record is looked at on nftables. */
export const POLL_MS = 2_000;
/** nft prints a reload as a burst of lines; one check after the last. */
const QUIET_MS = 300;
/** A monitor gets its first event only once subscribed: one more check this long after it starts closes that gap. */
const SETTLE_MS = 1_000;
/** The same problems found again after a repair: the reload could not mend them (a broken config); wait longer. */
const RETRY_MS = 10_000;
const MAX_RETRY_MS = 600_000;

/** A line of `nft monitor` that may have changed our rules: our table's objects, not the elements of its sets. */
const OURS = /\binet tsfirewall\b/;
const ELEMENTS = /^(add|delete) element /;
export const touchesOurTable = (line: string) => /^flush ruleset/.test(line) || (OURS.test(line) && !ELEMENTS.test(line));

/** The problems last reported, when, and how long the same ones must wait before they are reported again. */
export interface Reported { readonly key: string; readonly at: number; readonly wait: number }

/**
 * Pure: whether `problems` found at `now` are reported, and what is remembered. New problems are reported at once;
 * the same ones again (the repair did not mend them) only after RETRY_MS, then twice as long each time up to
 * MAX_RETRY_MS; rules found whole forget them.
 */
export function nextReport(last: Reported | undefined, problems: readonly string[], now: number): { report: boolean; last: Reported | undefined } {
  if (problems.length === 0) return { report: false, last: undefined };
  const key = problems.join('\n');
  if (last?.key === key && now < last.at + last.wait) return { report: false, last };
  return { report: true, last: { key, at: now, wait: last?.key === key ? Math.min(last.wait * 2, MAX_RETRY_MS) : RETRY_MS } };
}

export interface GuardOptions {
  /** The watcher is reloading, or about to: the guard neither reads nor reports meanwhile. */
  busy(): boolean;
  /** What was loaded is not intact: the watcher reloads. */
  found(problems: readonly string[]): void;
}

export interface Guard {
  /** A reload has finished: check once, so a repair that did not mend anything is told from one that did. */
  settled(): void;
  stop(): void;
}

export function guardLoaded(opts: GuardOptions): Guard {
  const backends = new Map<BackendName, Promise<FirewallBackend>>();
  let monitor: Followed | undefined;
  let monitorFailed = false;
  let stopped = false;
  let quiet: NodeJS.Timeout | undefined;
  let settle: NodeJS.Timeout | undefined;
  let checking = false;
  let again = false;
  let guarding: string | undefined;
  let last: Reported | undefined;

  const announce = (name: BackendName) => {
    const how = name === 'nftables' && monitor ? 'nft monitor ruleset' : `a read every ${POLL_MS / 1000} s while idle`;
    if (guarding !== `${name} ${how}`) log.info(`the rules are guarded (${name}: ${how}): a change from outside is repaired`);
    guarding = `${name} ${how}`;
  };

  const report = (problems: readonly string[]) => {
    const next = nextReport(last, problems, Date.now());
    last = next.last;
    if (next.report) opts.found(problems);
  };

  const check = async (): Promise<void> => {
    if (checking) { again = true; return; }
    if (stopped || opts.busy()) return;
    checking = true;
    try {
      const record = readLoaded();
      const name = BACKEND_NAMES.find((n) => n === record?.backend);
      if (name === undefined) { guarding = undefined; return; }
      if (!backends.has(name)) backends.set(name, backendNamed(name));
      const backend = await backends.get(name)!;
      const loaded = loadedBy(backend, record);
      if (!loaded) return;
      const live = await backend.readLive(loaded.families, []);
      // A reload that began meanwhile is judged once it is done (settled).
      if (stopped || opts.busy()) return;
      announce(name);
      report(backend.intact(loaded.plan, live));
    } catch (err) {
      log.debug(`reading the loaded rules failed: ${(err as Error).message}`);
    } finally {
      checking = false;
      if (again) { again = false; void check(); }
    }
  };

  const soon = () => { clearTimeout(quiet); quiet = setTimeout(() => void check(), QUIET_MS); };

  const follows = () => {
    if (monitor || monitorFailed) return;
    const nft = which('nft');
    if (!nft) { monitorFailed = true; return; }
    const m = follow(nft, ['monitor', 'ruleset'], (line) => { if (touchesOurTable(line)) soon(); });
    monitor = m;
    settle = setTimeout(() => void check(), SETTLE_MS);
    void m.done.then((r) => {
      if (monitor !== m) return;
      monitor = undefined;
      if (stopped) return;
      monitorFailed = true;
      log.warn(`nft monitor ended (${r.spawnError ?? `exit ${r.exitCode}: ${r.stderr.trim()}`}); the rules are read every ${POLL_MS / 1000} s instead`);
    });
  };
  const unfollow = () => { const m = monitor; monitor = undefined; m?.stop(); };

  /**
   * Every POLL_MS: what the record says is loaded decides how it is guarded. Under the monitor, a repair that mended
   * nothing is looked at again once its wait is over: nothing in the kernel changes to say so.
   */
  const tick = () => {
    const name = readLoaded()?.backend;
    if (name === undefined) { unfollow(); guarding = undefined; return; }
    if (name === 'nftables' && !monitorFailed) {
      follows();
      if (last !== undefined && Date.now() >= last.at + last.wait) void check();
      return;
    }
    unfollow();
    void check();
  };
  const timer = setInterval(tick, POLL_MS);
  tick();

  return {
    settled: () => void check(),
    stop: () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(quiet);
      clearTimeout(settle);
      unfollow();
    },
  };
}
