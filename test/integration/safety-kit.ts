/**
 * Pieces the safety tests (issue 5) share: the CLI run inside a lab namespace with its own run/state directories
 * and an optional directory of fake programs first on PATH (fault injection), the kernel state of both families as
 * one comparable string, and a way to start the CLI without waiting for it (to signal it at a fault point).
 */
import { execa, type ResultPromise } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Host } from '../harness/netns.js';
import { savedRules, type BackendName, type Result } from './helpers.js';

/** A scratch area per test file: run dir, state dir, fail2ban dir, fake programs. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsfw-safety-'));
  readonly runDir = join(this.dir, 'run');
  readonly stateDir = join(this.dir, 'state');
  readonly fail2banDir = join(this.dir, 'fail2ban');
  constructor() { mkdirSync(this.fail2banDir, { recursive: true }); }

  /** A directory holding fake programs (name -> sh script body), to put first on PATH. */
  fakes(programs: Readonly<Record<string, string>>): string {
    const bin = mkdtempSync(join(this.dir, 'bin-'));
    for (const [name, body] of Object.entries(programs)) {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    }
    return bin;
  }

  /**
   * Files an unfinished apply would leave in the run directory (the journal, a confirm request); not the record of
   * the last finished one (loaded.*), which status reads.
   */
  leftovers(): string[] {
    return existsSync(this.runDir) ? readdirSync(this.runDir).filter((f) => !f.startsWith('lock.') && !f.startsWith('loaded.')) : [];
  }

  /** The record of the last finished apply (state/loaded.ts), which status compares with the config. */
  loadedRecord(): string | undefined {
    const name = existsSync(this.runDir) ? readdirSync(this.runDir).find((f) => f.startsWith('loaded.')) : undefined;
    return name === undefined ? undefined : readFileSync(join(this.runDir, name), 'utf8');
  }

  dispose(): void { rmSync(this.dir, { recursive: true, force: true }); }
}

/** A Scratch for the calling test file, removed by its afterAll. */
export function useScratch(): Scratch {
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());
  return scratch;
}

export interface CliOptions {
  readonly config?: string;
  readonly backend: BackendName;
  readonly fakeBin?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export function cliEnv(s: Scratch, o: CliOptions): Record<string, string> {
  return {
    TSFIREWALL_BACKEND: o.backend,
    TSFIREWALL_RUN_DIR: s.runDir,
    TSFIREWALL_STATE_DIR: s.stateDir,
    TSFIREWALL_FAIL2BAN_DIR: s.fail2banDir,
    TSFIREWALL_LOG_LEVEL: 'info',
    PATH: `${o.fakeBin ? `${o.fakeBin}:` : ''}${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
    // The test runner's own environment must not steer the CLI (an SSH session would arm the lock-out guard).
    SSH_CONNECTION: '', SSH_CLIENT: '', TSFIREWALL_FAULT: '', TSFIREWALL_CONFIG: '', TSFIREWALL_LOCK_WAIT: '',
    ...o.env,
  };
}

const cliArgv = (cli: string, args: readonly string[], o: CliOptions) =>
  [process.execPath, cli, ...(o.config === undefined ? [] : ['--config', o.config]), ...args];

export function runCli(cli: string, host: Host, s: Scratch, args: readonly string[], o: CliOptions): Promise<Result> {
  return host.exec(cliArgv(cli, args, o), { env: cliEnv(s, o), timeoutMs: o.timeoutMs ?? 60_000 });
}

/** Starts the CLI in the host's namespace and returns the running process (ip netns exec execs, so its pid is node's). */
export function spawnCli(cli: string, host: Host, s: Scratch, args: readonly string[], o: CliOptions): ResultPromise {
  return execa('ip', ['netns', 'exec', host.ns, ...cliArgv(cli, args, o)], {
    env: cliEnv(s, o), reject: false, timeout: o.timeoutMs ?? 60_000, stdin: 'ignore', buffer: true,
  });
}

/** Resolves once the process's stderr contains `marker` (bounded), with the stderr so far. */
export function waitForStderr(child: ResultPromise, marker: RegExp, timeoutMs = 20_000): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${marker} on stderr within ${timeoutMs} ms; got: ${seen}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (marker.test(seen)) { clearTimeout(timer); resolve(seen); }
    });
  });
}

/** Both families' rules, counters and generated-on comments aside: what "byte-identical" compares. */
export async function kernelState(host: Host, backend: BackendName): Promise<string> {
  return `${await savedRules(host, backend, 'ipv4')}\n--- ipv6 ---\n${await savedRules(host, backend, 'ipv6')}`;
}

/**
 * A restore program that passes `--test` and the rollback (`--counters`) to the real one and fails the real load:
 * the "kernel rejects the table" fault, after validation said yes.
 */
export const failingRestore = (real: string) => [
  'for a in "$@"; do case "$a" in --test|--counters) exec ' + real + ' "$@";; esac; done',
  'cat >/dev/null',
  'echo "iptables-restore: line 2 failed (injected fault)" >&2',
  'exit 1',
].join('\n');

/** A restore program for which the nat table does not exist (kernel without iptable_nat): fails any input naming it. */
export const natlessRestore = (real: string) => [
  'input=$(cat)',
  'case "$input" in *"*nat"*) echo "iptables-restore: unable to initialize table \'nat\' (injected fault)" >&2; exit 1;; esac',
  'printf "%s\\n" "$input" | exec ' + real + ' "$@"',
].join('\n');
