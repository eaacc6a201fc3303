/**
 * Diagnostics (errors, warnings, progress, debug) on stderr through winston. Under systemd stderr is the journal,
 * so the same lines land there; the syslog priority prefix (<3>, <4>...) lets journald keep levels apart.
 *
 * winston costs ~30 ms to load, a quarter of Node's own start-up, so it is loaded on the first message at an
 * enabled level: a clean `status` never pays for it. Messages keep their order through one promise chain, and
 * `flushLogs()` (awaited by the CLI before exit) makes sure every line is written.
 */
import { fstatSync } from 'node:fs';
import type { Logger } from 'winston';

const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
type Level = keyof typeof LEVELS;
const PRIORITY: Readonly<Record<Level, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

let threshold: Level = (process.env.TSFIREWALL_LOG_LEVEL as Level | undefined) ?? 'info';
if (!(threshold in LEVELS)) threshold = 'info';
let pending: Promise<unknown> = Promise.resolve();
let logger: Promise<Logger> | undefined;

async function createLogger(): Promise<Logger> {
  const { default: winston } = await import('winston');
  const underJournal = isJournalStream(process.env.JOURNAL_STREAM, () => fstatSync(2));
  return winston.createLogger({
    level: 'debug',
    format: winston.format.printf(({ level, message }) => {
      if (underJournal) return `<${PRIORITY[level as Level] ?? 6}>${String(message)}`;
      return level === 'info' ? String(message) : `${level}: ${String(message)}`;
    }),
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(LEVELS) })],
  });
}

/**
 * systemd sets JOURNAL_STREAM to the journal stream's "device:inode", and it is inherited: only a stderr that is
 * that very stream is the journal (not, say, a pipe to the watcher that runs us as its child).
 */
export function isJournalStream(value: string | undefined, stderr: () => { dev: number; ino: number }): boolean {
  if (value === undefined) return false;
  try {
    const st = stderr();
    return value === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

export const enabled = (level: Level) => LEVELS[level] <= LEVELS[threshold];

function emit(level: Level, message: string): void {
  if (!enabled(level)) return;
  logger ??= createLogger();
  const l = logger;
  pending = pending.then(async () => { (await l).log(level, message); });
}

export const log = {
  error: (message: string) => emit('error', message),
  warn: (message: string) => emit('warn', message),
  info: (message: string) => emit('info', message),
  debug: (message: string) => emit('debug', message),
};

export function setVerbose(verbose: boolean): void {
  if (verbose) threshold = 'debug';
}

/** Quiet mode for `--json`: only errors. */
export function setQuiet(): void {
  threshold = 'error';
}

/** Resolves when every message so far has been handed to the console. */
export async function flushLogs(): Promise<void> {
  await pending;
}
