/**
 * The one place tsfirewall starts other programs, through execa: every call is an argv array (never a shell), is
 * logged at debug level, and resolves to a result instead of throwing, so callers decide what a non-zero exit
 * means. execa brings the details a firewall cannot get wrong: a timeout that ends in SIGKILL, no EPIPE crash when
 * a program exits without reading its input, and children killed when we are. It is imported on the first program
 * a verb runs, not with the verb's code.
 */
import { onExit } from 'signal-exit';
import { log } from '../log.js';
import { mark } from '../trace.js';

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES), timed out or was killed. */
  readonly spawnError?: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** After a timeout's SIGTERM, how long a program gets before SIGKILL. */
const FORCE_KILL_MS = 5_000;

export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  log.debug(`exec: ${file} ${args.join(' ')}`);
  mark(`exec ${file}`);
  const timeout = opts.timeoutMs ?? 60_000;
  const { execa } = await import('execa');
  const sub = execa(file, args, {
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    env: opts.env,
    reject: false,
    stripFinalNewline: false,
    timeout,
    forceKillAfterDelay: FORCE_KILL_MS,
    // Ours ends it, with the onExit below that follow() shares: with two copies of signal-exit loaded (execa bundled
    // apart brings its own), a signal the caller handles (watch's SIGTERM) is re-raised and kills us.
    cleanup: false,
  });
  const forget = onExit(() => { sub.kill(); });
  const r = await sub.finally(forget);
  mark(`exited ${file}`);
  const spawnError = r.timedOut ? `${file} timed out after ${timeout} ms` : endedWithout(file, r);
  const exitCode = spawnError ? 127 : r.exitCode!;
  if (exitCode !== 0) log.debug(`exec: ${file} exited ${spawnError ?? exitCode}: ${String(r.stderr).trim()}`);
  return { exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), spawnError };
}

export interface Followed {
  /** Settles once the program has been started (or failed to start): execa is loaded on first use. */
  readonly started: Promise<void>;
  /** Ends the program (SIGTERM, then SIGKILL after 5 s). */
  stop(): void;
  /** Settles when the program has ended, for whatever reason. */
  readonly done: Promise<RunResult>;
}

/** Why a program gave no exit code: killed by a signal, or never started (ENOENT, EACCES). */
function endedWithout(file: string, r: { exitCode?: number; isTerminated: boolean; signal?: string; originalMessage?: string; shortMessage?: string }): string | undefined {
  if (r.exitCode !== undefined) return undefined;
  return r.isTerminated ? `${file} was killed with ${r.signal}` : `cannot run ${file}: ${r.originalMessage ?? r.shortMessage}`;
}

/**
 * A long-running program whose output lines are handed over as they come (`ip monitor`): the same argv-only,
 * logged start as run(), without a timeout, and ended with us. execa is loaded here, on first use; "ended with us"
 * is registered at once, before the caller's own signal handlers (as when execa was loaded up front): signal-exit
 * re-raises a signal only when its handlers are the last ones left, so the order decides whether a SIGTERM the
 * caller handles still ends the process.
 */
export function follow(file: string, args: readonly string[], onLine: (line: string) => void): Followed {
  log.debug(`exec (following): ${file} ${args.join(' ')}`);
  let stopped = false;
  let stop = () => { stopped = true; };
  const forget = onExit(() => { stop(); });
  const spawned = import('execa').then(({ execa }) => {
    // cleanup: false, since the onExit above ends it: one copy of signal-exit in the process, as before.
    const sub = execa(file, args, { stdin: 'ignore', reject: false, buffer: false, cleanup: false, forceKillAfterDelay: 5_000 });
    stop = () => { sub.kill('SIGTERM'); };
    if (stopped) stop();
    sub.stdout?.setEncoding('utf8');
    let rest = '';
    sub.stdout?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    // Wrapped: the subprocess is itself a promise, which `then` would wait for.
    return { sub };
  });
  const done = spawned.then(({ sub }) => sub.then((r) => ({ exitCode: r.exitCode ?? 127, stdout: '', stderr: String(r.stderr ?? ''), spawnError: endedWithout(file, r) }))).finally(forget);
  return { started: spawned.then(() => undefined, () => undefined), stop: () => stop(), done };
}
