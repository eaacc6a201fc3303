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
}

export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  log.debug(`exec: ${file} ${args.join(' ')}`);
  const result = await execa(file, args, {
    input: opts.input,
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs ?? 60_000,
    env: opts.env,
    stdin: opts.input === undefined ? 'ignore' : undefined,
  });
  const spawnError = result.failed && result.exitCode === undefined ? result.shortMessage : undefined;
  if (result.exitCode !== 0) log.debug(`exec: ${file} exited ${result.exitCode ?? spawnError}: ${result.stderr.trim()}`);
  return { exitCode: result.exitCode ?? 127, stdout: result.stdout, stderr: result.stderr, spawnError };
}
