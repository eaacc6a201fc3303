/**
 * The one place tsfirewall starts other programs. Every call is an argv array (never a shell), is logged at
 * debug level, and resolves to a result instead of throwing, so callers decide what a non-zero exit means.
 */
import { execa } from 'execa';
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
  const result = await execa(file, args, {
    input: opts.input,
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs ?? 60_000,
    env: opts.env,
    ...(opts.fds?.length
      // execa passes numeric extra fds straight to spawn; its types only list the richer forms.
      ? { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...opts.fds] as unknown as ['pipe', 'pipe', 'pipe'] }
      : { stdin: opts.input === undefined ? 'ignore' as const : undefined }),
  });
  const spawnError = result.failed && result.exitCode === undefined ? result.shortMessage : undefined;
  if (result.exitCode !== 0) log.debug(`exec: ${file} exited ${result.exitCode ?? spawnError}: ${result.stderr.trim()}`);
  return { exitCode: result.exitCode ?? 127, stdout: result.stdout, stderr: result.stderr, spawnError };
}
