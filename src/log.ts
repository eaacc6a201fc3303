/**
 * Human log lines on stderr through winston. Under systemd stderr is the journal, so the same lines land there;
 * the syslog priority prefix (<3>, <4>...) lets journald keep error and warning levels apart.
 */
import winston from 'winston';

const PRIORITY: Readonly<Record<string, number>> = { error: 3, warn: 4, info: 6, debug: 7 };
const underJournal = () => process.env.JOURNAL_STREAM !== undefined;

const line = winston.format.printf(({ level, message }) => {
  const text = String(message);
  if (underJournal()) return `<${PRIORITY[level] ?? 6}>${text}`;
  return level === 'info' ? text : `${level}: ${text}`;
});

export const log = winston.createLogger({
  level: process.env.TSFIREWALL_LOG_LEVEL ?? 'info',
  format: line,
  transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
});

export function setVerbose(verbose: boolean): void {
  if (verbose) log.level = 'debug';
}

/** Quiet mode for `--json` and tests: only errors. */
export function setQuiet(): void {
  log.level = 'error';
}
