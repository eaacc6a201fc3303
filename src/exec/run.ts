/**
 * The one place tsfirewall starts other programs. Every call is an argv array (never a shell), is logged at
 * debug level, and resolves to a result instead of throwing, so callers decide what a non-zero exit means.
 *
 * Plain node:child_process rather than execa: execa and its dependencies cost ~70 ms to load, more than half of
 * Node's own start-up, on every verb's hot path, and this needs none of its features.
 */
import { spawn } from 'node:child_process';
import { log } from '../log.js';

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES), as opposed to exiting non-zero. */
  readonly spawnError?: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Open file descriptors handed to the child as fd 3, 4...: how flock(1) takes a lock this process keeps. */
  readonly fds?: readonly number[];
}

export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  log.debug(`exec: ${file} ${args.join(' ')}`);
  const result = await spawnAndWait(file, args, opts);
  if (result.exitCode !== 0) log.debug(`exec: ${file} exited ${result.spawnError ?? result.exitCode}: ${result.stderr.trim()}`);
  return result;
}

/** Grace between SIGTERM and SIGKILL for a program that outlives its timeout (execa's default too). */
const KILL_AFTER_MS = 5_000;

function spawnAndWait(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (exitCode: number, spawnError?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), spawnError });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], {
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(opts.fds ?? [])],
      });
    } catch (err) {
      finish(127, `cannot run ${file}: ${(err as Error).message}`);
      return;
    }
    const timeoutMs = opts.timeoutMs ?? 60_000;
    timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS).unref();
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => finish(127, `cannot run ${file}: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code !== null && !timedOut) finish(code);
      else finish(127, timedOut ? `${file} timed out after ${timeoutMs} ms` : `${file} was killed with ${signal}`);
    });
    if (opts.input !== undefined) {
      // A program that exits without reading all its input (a usage error) must not crash us with EPIPE.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}
