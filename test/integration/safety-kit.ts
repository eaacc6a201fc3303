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
import { withoutFail2ban } from '../harness/no-fail2ban.js';
import { sortedNftListing } from '../harness/rulesets.js';
import { isIptables, mustExec, netnsTag, savedRules, type BackendName, type Result } from './helpers.js';

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
   * the last finished one (loaded.*), which status reads, nor how the last apply ended (last-apply.*).
   */
  leftovers(): string[] {
    // What stays by design: the verb lock, the record of what is loaded and how the last apply ended.
    const kept = ['lock.', 'loaded.', 'last-apply.'];
    return existsSync(this.runDir) ? readdirSync(this.runDir).filter((f) => !kept.some((k) => f.startsWith(k))) : [];
  }

  /**
   * The record of the last finished apply (state/loaded.ts), which status compares with the config: the one of
   * `tag`'s namespace (netnsTag), as labs of several backends in one file share this run directory.
   */
  loadedRecord(tag: string): string | undefined {
    const path = join(this.runDir, `loaded.${tag}.json`);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
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
  withoutFail2ban([process.execPath, cli, ...(o.config === undefined ? [] : ['--config', o.config]), ...args]);

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

/**
 * What "byte-identical" compares. iptables: both families' saves, counters and generated-on comments aside.
 * nftables: the whole `nft -s list ruleset` (our table, and any other table, so a rollback that touched someone
 * else's shows): -s leaves out counters and each element's expires, and element lists are sorted, since a rollback
 * re-creates the sets, which hash their elements in another order.
 */
export async function kernelState(host: Host, backend: BackendName): Promise<string> {
  if (!isIptables(backend)) return sortedNftListing(await mustExec(host, ['nft', '-s', 'list', 'ruleset']));
  return `${await savedRules(host, backend, 'ipv4')}\n--- ipv6 ---\n${await savedRules(host, backend, 'ipv6')}`;
}

/**
 * A kernelState of an open host, nothing of ours in it: iptables' built-ins back to ACCEPT with no rule of ours
 * and no DROP; on nftables no table of ours and no drop anywhere.
 */
export function isOpen(backend: BackendName, state: string): boolean {
  return isIptables(backend) ? !/DROP|tsfw:/.test(state) && /:INPUT ACCEPT/.test(state) : !/tsfirewall|tsfw:|\bdrop\b/.test(state);
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

/** What every ruleset load of the nftables backend does and a rollback, a stop or a ban edit does not. */
const NFT_RULESET_LOAD = 'flush chain inet tsfirewall';

/**
 * An nft that passes checks (-c), reads and every other document to the real one and fails the ruleset's load:
 * the "kernel rejects the table" fault, after nft -c said yes. The rollback's document (delete our table, load
 * the snapshot) goes through.
 */
export const failingNft = (real: string) => [
  'for a in "$@"; do case "$a" in -c|--check) exec ' + real + ' "$@";; esac; done',
  'case "$*" in *"-f -"*) ;; *) exec ' + real + ' "$@";; esac',
  'input=$(cat)',
  `case "$input" in *"${NFT_RULESET_LOAD}"*) echo "Error: Could not process rule: Operation not supported (injected fault)" >&2; exit 1;; esac`,
  'printf "%s\\n" "$input" | exec ' + real + ' "$@"',
].join('\n');

/** An nft that commits the ruleset's load and is then killed before it can say so (SIGKILL, as a timeout ends it). */
export const killedNft = (real: string) => [
  'case "$*" in *"-f -"*) ;; *) exec ' + real + ' "$@";; esac',
  'input=$(cat)',
  `case "$input" in *"${NFT_RULESET_LOAD}"*) printf "%s\\n" "$input" | ${real} "$@"; kill -9 $$;; esac`,
  'printf "%s\\n" "$input" | exec ' + real + ' "$@"',
].join('\n');

/** An nft on a kernel without nat chains (no nft_chain_nat): any document declaring one fails, checked or loaded. */
export const natlessNft = (real: string) => [
  'case "$*" in *"-f -"*) ;; *) exec ' + real + ' "$@";; esac',
  'input=$(cat)',
  'case "$input" in *"type nat hook"*) echo "Error: Could not process rule: No such file or directory (injected fault: no nat chains)" >&2; exit 1;; esac',
  'printf "%s\\n" "$input" | exec ' + real + ' "$@"',
].join('\n');
