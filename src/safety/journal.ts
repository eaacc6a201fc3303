/**
 * The apply journal: before the first change to the kernel, the ruleset we are about to replace is written to the
 * run directory; it is removed once the new ruleset is in (and confirmed, with --confirm). A journal found by the
 * next locked verb therefore means its writer died mid-apply (SIGKILL, power cut of the process, OOM): what the
 * kernel holds may be half new (one family loaded, the other not), so the previous ruleset is put back before anything else.
 * It lives in /run: after a reboot the kernel's rules are gone and so is the journal.
 */
import { backendNamed } from '../backend/choose.js';
import type { Snapshot, Staged } from '../backend/types.js';
import { BACKEND_NAMES, type BackendName } from '../config/types.js';
import { ApplyError } from '../errors.js';
import { log } from '../log.js';
import { netnsTag, runDir } from '../state/dirs.js';
import { readStateFile, removeStateFile, writeStateFile } from '../state/write.js';

export interface Journal {
  readonly version: 2;
  readonly pid: number;
  readonly verb: string;
  readonly started: string;
  /** The backend's snapshot from before the apply; it names the backend that can put it back. */
  readonly before: Snapshot;
  /** What the apply was loading, so rollback also removes what only the new ruleset added. */
  readonly attempted: Staged;
}

/** Journals before the backend seam held iptables-save text per family: read them as the iptables backend's. */
interface JournalV1 {
  readonly version: 1; readonly pid: number; readonly verb: string; readonly started: string;
  readonly backend: 'nft' | 'legacy'; readonly before: Record<string, string>; readonly attempted: Record<string, string>;
}

function upgrade(j: JournalV1): Journal {
  const backend: BackendName = j.backend === 'nft' ? 'iptables-nft' : 'iptables-legacy';
  return {
    version: 2, pid: j.pid, verb: j.verb, started: j.started,
    before: { backend, data: { saved: j.before } },
    attempted: { backend, parts: [], data: { texts: j.attempted, ipsets: [], created: [] } },
  };
}

const journalName = () => `journal.${netnsTag()}.json`;

export function writeJournal(journal: Journal): void {
  writeStateFile(runDir(), journalName(), JSON.stringify(journal));
}

export function clearJournal(): void {
  removeStateFile(runDir(), journalName());
}

export function readJournal(): Journal | undefined {
  const text = readStateFile(runDir(), journalName());
  if (text === undefined) return undefined;
  try {
    const j = JSON.parse(text) as Journal | JournalV1;
    const families = (o: unknown) => typeof o === 'object' && o !== null &&
      Object.entries(o).every(([k, v]) => (k === 'ipv4' || k === 'ipv6') && typeof v === 'string');
    if (j.version === 1 && (j.backend === 'nft' || j.backend === 'legacy') && families(j.before) && families(j.attempted)) return upgrade(j);
    const named = (o: { backend?: unknown } | undefined) => BACKEND_NAMES.includes(o?.backend as BackendName);
    if (j.version === 2 && typeof j.pid === 'number' && named(j.before) && named(j.attempted) && j.before.backend === j.attempted.backend) return j;
  } catch { /* fall through */ }
  throw new ApplyError(`${runDir()}/${journalName()} is corrupt; check the ruleset (tsfirewall status), then remove the file`);
}

/**
 * Called with the lock held, so a journal here belongs to a dead process. Restores the ruleset it saved and
 * removes it; returns what happened, for the log. A failed restore keeps the journal so the next verb retries.
 */
export async function recoverInterrupted(): Promise<string | undefined> {
  const journal = readJournal();
  if (!journal) return undefined;
  const backend = await backendNamed(journal.before.backend);
  // The load may have begun: the kernel may hold any part of the attempt.
  const ok = await backend.rollback(journal.before, journal.attempted, { loaded: true });
  if (!ok) {
    throw new ApplyError(`a previous "${journal.verb}" (pid ${journal.pid}, ${journal.started}) was interrupted and ` +
      'restoring the ruleset it replaced failed; check the ruleset (tsfirewall status)');
  }
  clearJournal();
  const message = `a previous "${journal.verb}" (pid ${journal.pid}, started ${journal.started}) was interrupted mid-apply; ` +
    'the ruleset from before it was restored';
  log.warn(message);
  return message;
}

/** For status: a line about an apply in progress, or one a SIGKILL interrupted; undefined when there is none. */
export function describePendingApply(): string | undefined {
  let journal: Journal | undefined;
  try { journal = readJournal(); } catch (err) { return (err as Error).message; }
  if (!journal) return undefined;
  let alive = false;
  try { process.kill(journal.pid, 0); alive = true; } catch (err) { alive = (err as NodeJS.ErrnoException).code === 'EPERM'; }
  return alive
    ? `a "${journal.verb}" (pid ${journal.pid}) is applying a new ruleset (or waiting for "tsfirewall confirm")`
    : `a "${journal.verb}" (pid ${journal.pid}) was killed mid-apply; the kernel may hold part of its ruleset until the ` +
      'next start, reload or stop restores the one from before it';
}
