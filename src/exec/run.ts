/**
 * The one place tsfirewall starts other programs: every call is an argv array (never a shell), is logged at debug
 * level, and resolves to a result instead of throwing, so callers decide what a non-zero exit means.
 *
 * run() is the hot path (start waits on a chain of short programs), so it is node:child_process itself: execa's
 * import costs more than a program start, and its set-up more per call. It keeps what a firewall cannot get wrong,
 * as execa gave it: a timeout that ends in SIGKILL, no EPIPE crash when a program exits without reading its input,
 * an environment that extends ours, and children killed when we are (signal-exit, as execa does it). follow(), for
 * the long-running `ip monitor` of `watch`, uses execa's streaming, loaded only there.
 */
import { spawn } from 'node:child_process';
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
/** More output than this from one program is a runaway, not a result (execa's default cap). */
const MAX_OUTPUT = 100_000_000;

export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  log.debug(`exec: ${file} ${args.join(' ')}`);
  mark(`exec ${file}`);
  const timeout = opts.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const finish = (exitCode: number, stdout: string, stderr: string, spawnError?: string) => {
      mark(`exited ${file}`);
      if (exitCode !== 0) log.debug(`exec: ${file} exited ${spawnError ?? exitCode}: ${stderr.trim()}`);
      resolve({ exitCode, stdout, stderr, spawnError });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, {
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
      });
    } catch (err) {
      finish(127, '', '', `cannot run ${file}: ${(err as Error).message}`);
      return;
    }
    mark(`spawned ${file}`);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: string | undefined;
    const kill = (signal: NodeJS.Signals, why: string) => {
      failure ??= why;
      child.kill(signal);
      setTimeout(() => child.kill('SIGKILL'), FORCE_KILL_MS).unref();
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) kill('SIGTERM', `${file} printed more than ${MAX_OUTPUT} bytes`);
      else into.push(chunk);
    };
    child.stdout!.on('data', collect(out));
    child.stderr!.on('data', collect(err));
    const timer = setTimeout(() => kill('SIGTERM', `${file} timed out after ${timeout} ms`), timeout);
    const forget = onExit(() => { child.kill(); });
    let started = true;
    child.once('error', (e) => {
      // A program that never started (ENOENT, EACCES) has no pid and will not close.
      if (child.pid !== undefined) return;
      started = false;
      clearTimeout(timer);
      forget();
      finish(127, '', '', `cannot run ${file}: ${e.message}`);
    });
    if (opts.input !== undefined) {
      // A program may exit without reading all of its input: that is its answer, not our crash.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
    child.once('close', (code, signal) => {
      if (!started) return;
      clearTimeout(timer);
      forget();
      const [stdout, stderr] = [Buffer.concat(out).toString('utf8'), Buffer.concat(err).toString('utf8')];
      if (failure !== undefined) finish(127, stdout, stderr, failure);
      else if (code === null) finish(127, stdout, stderr, `${file} was killed with ${signal}`);
      else finish(code, stdout, stderr);
    });
  });
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
