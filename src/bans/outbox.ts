/**
 * The outbox: local bans and unbans waiting to be published, as files in the state directory, written by whoever
 * bans (the ban verbs here; fail2ban's tsfirewall-fleet action with two shell builtins and one mv) and drained by
 * the fleet service. Nothing that bans ever waits on the engine, or on the service: a write is one small file, and
 * with the engine down the files stay until it is back. Maildir's discipline (write in tmp/, rename into new/)
 * makes each file appear whole, with no lock between writers that share nothing but a directory. Bounded in
 * files: a writer that finds OUTBOX_MAX files waiting drops its events (the ban itself still happens) and says so.
 */
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDir } from '../state/write.js';

export const OUTBOX = 'fleet-outbox';
/** fail2ban's action.d name for it. */
export const FLEET_ACTION = 'tsfirewall-fleet';
/** Files (one per verb's batch or per fail2ban action) waiting at most; each verb's batch is one file. */
export const OUTBOX_MAX = 10_000;

/** One line of an outbox file, as both writers spell it: times in seconds, as fail2ban's <time> and <bantime>. */
export interface OutboxLine {
  readonly op: 'ban' | 'unban';
  /** Service name of the jail (ssh). */
  readonly jail: string;
  readonly ip: string;
  /** Seconds since the epoch (fail2ban gives a fraction). */
  readonly at: number;
  /** ban: its length in seconds; 0 or negative (fail2ban's -1): until unbanned. */
  readonly bantime?: number;
  readonly reason: string;
}

export const outboxDir = (stateDir: string) => join(stateDir, OUTBOX);

/** Makes tmp/ and new/ (the state directory's own checks first); fail2ban's action needs them to exist. */
export function ensureOutbox(stateDir: string): string {
  ensureStateDir(stateDir);
  const dir = outboxDir(stateDir);
  for (const d of [dir, join(dir, 'tmp'), join(dir, 'new')]) {
    try { mkdirSync(d, { mode: 0o700 }); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; }
  }
  return dir;
}

/** Names sort by the time they start with (seconds, as fail2ban's <time>), so events leave in the order they came. */
export const fileTime = (name: string) => Number.parseFloat(name) || 0;

export function pendingFiles(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'new')).filter((n) => !n.startsWith('.')).sort((a, b) => fileTime(a) - fileTime(b) || (a < b ? -1 : 1));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Queues one batch as one file; false (nothing written) when the outbox is full. Synchronous and small: it runs
 * in the ban verbs after the kernel has the ban.
 */
export function queueLines(stateDir: string, lines: readonly OutboxLine[], now = Date.now()): boolean {
  if (lines.length === 0) return true;
  const dir = ensureOutbox(stateDir);
  if (readdirSync(join(dir, 'new')).length >= OUTBOX_MAX) return false;
  const name = `${(now / 1000).toFixed(3)}.cli.${process.pid}.${Math.random().toString(16).slice(2, 8)}`;
  const tmp = join(dir, 'tmp', name);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const bytes = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, 'new', name));
  return true;
}

/** Pure: a file's lines, good and bad (a bad line is counted and dropped, never retried forever). */
export function parseOutbox(text: string): { lines: OutboxLine[]; bad: number } {
  const lines: OutboxLine[] = [];
  let bad = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const l = JSON.parse(raw) as Partial<OutboxLine>;
      const ok = (l.op === 'ban' || l.op === 'unban') && typeof l.jail === 'string' && typeof l.ip === 'string' &&
        typeof l.at === 'number' && Number.isFinite(l.at) && (l.bantime === undefined || (typeof l.bantime === 'number' && Number.isFinite(l.bantime))) &&
        typeof l.reason === 'string';
      if (ok) lines.push(l as OutboxLine);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { lines, bad };
}

export function readOutboxFile(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, 'new', name), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function removeOutboxFile(dir: string, name: string): void {
  try { unlinkSync(join(dir, 'new', name)); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; }
}

/**
 * fail2ban's action for a shared jail: the same file, written by /bin/sh. Only fail2ban's own tags go in (<ip> is
 * an address it parsed, <time> and <bantime> numbers); the directory and the jail are ours, validated words. No
 * '%' anywhere: fail2ban's config reader would take it for interpolation.
 */
export function fail2banFleetAction(opts: { readonly dir: string; readonly source?: string }): string {
  const write = (op: 'ban' | 'unban') => {
    const body = op === 'ban'
      ? `{"op":"ban","jail":"<service>","ip":"<ip>","at":<time>,"bantime":<bantime>,"reason":"fail2ban"}`
      : `{"op":"unban","jail":"<service>","ip":"<ip>","at":<time>,"reason":"fail2ban"}`;
    return `d=<outbox>; set -- "$d"/new/*; [ "$#" -lt ${OUTBOX_MAX} ] && echo '${body}' > "$d/tmp/f2b.$$" && mv -f "$d/tmp/f2b.$$" "$d/new/<time>.f2b.${op}.$$"`;
  };
  return `# fail2ban action: each ban and unban of the jail is queued for the fleet (docs/fleet.md).
# Written by tsfirewall from ${opts.source ?? 'its built-in defaults'}; \`tsfirewall start\` overwrites it.
# The fleet service (tsfirewall fleet) publishes what is queued; when the queue is full the event is dropped
# (the ban itself is another action's and still happens) and this action fails, which fail2ban logs.
[Definition]
actionstart =
actionstop =
actioncheck =
actionban = ${write('ban')}
# A repeat offender's lengthened ban (bantime.increment) is published again with its new length.
actionprolong = %(actionban)s
actionunban = ${write('unban')}
actionflush = true

[Init]
outbox = ${opts.dir}
service =
`;
}
