/**
 * nft's own library, libnftables, called in this process through the koffi FFI package: the same parser, the same
 * netlink transaction and the same words as the `nft` program, without a program to start. Spawning from Node is
 * the largest cost of a verb on nftables (see the bench's stage breakdown), and a start, a status or a ban batch
 * waits on one to three of them; here each costs what libnftables itself costs. firewalld drives nftables the same
 * way (its Python binding of this library).
 *
 * The library and koffi are loaded on first use and only once; when either cannot be loaded (no libnftables1, a
 * platform koffi has no binary for), nftLibrary() says so and the caller runs the program instead.
 */
import { mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../log.js';
import { ffi, libc, type Koffi, type Libc } from './koffi.js';
import { mark } from '../trace.js';
import type { RunResult } from './run.js';

/** What one call asks of nft: its -j (JSON output) and -c (check only, nothing is changed). */
export interface NftOptions {
  readonly json?: boolean;
  readonly check?: boolean;
}

export interface NftLibrary {
  /**
   * Runs `text` as `nft [-j] [-c] -f -` would: one transaction for a document, every command's output in stdout.
   * The call holds the event loop for as long as the kernel takes; it resolves once any signal that arrived
   * meanwhile has reached its handler.
   */
  run(text: string, opts?: NftOptions): Promise<RunResult>;
}

/** libnftables' NFT_CTX_OUTPUT_JSON (nftables.h): `nft -j`. */
const OUTPUT_JSON = 1 << 4;
/** The soname Debian's libnftables1 and Fedora's nftables ship; the ABI the functions below have had since 0.9. */
const SONAME = 'libnftables.so.1';

interface Bound {
  readonly libc: Libc;
  readonly newContext: () => unknown;
  readonly freeContext: (ctx: unknown) => void;
  readonly bufferOutput: (ctx: unknown) => number;
  readonly bufferErrors: (ctx: unknown) => number;
  readonly runBuffer: (ctx: unknown, text: string) => number;
  readonly runFile: (ctx: unknown, path: string) => number;
  readonly setFlags: (ctx: unknown, flags: number) => void;
  readonly setDryRun: (ctx: unknown, dry: boolean) => void;
  readonly output: (ctx: unknown) => string;
  readonly errors: (ctx: unknown) => string;
}

let bound: Bound | null | undefined;

/** glibc's sigset_t is 1024 bits; SIG_BLOCK and SIG_SETMASK are Linux's values on every architecture. */
const SIGSET_BYTES = 128;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;

function bind(koffi: Koffi, libc: Libc): Bound {
  const lib = koffi.load(SONAME);
  const fn = <T>(signature: string) => lib.func(signature) as T;
  const create = fn<(flags: number) => unknown>('void *nft_ctx_new(uint32_t flags)');
  return {
    libc,
    newContext: () => create(0),
    freeContext: fn('void nft_ctx_free(void *ctx)'),
    bufferOutput: fn('int nft_ctx_buffer_output(void *ctx)'),
    bufferErrors: fn('int nft_ctx_buffer_error(void *ctx)'),
    runBuffer: fn('int nft_run_cmd_from_buffer(void *ctx, const char *buf)'),
    runFile: fn('int nft_run_cmd_from_filename(void *ctx, const char *filename)'),
    setFlags: fn('void nft_ctx_output_set_flags(void *ctx, uint32_t flags)'),
    setDryRun: fn('void nft_ctx_set_dry_run(void *ctx, bool dry)'),
    output: fn('const char *nft_ctx_get_output_buffer(void *ctx)'),
    errors: fn('const char *nft_ctx_get_error_buffer(void *ctx)'),
  };
}

/**
 * A document of several lines is read from a file, because libnftables (1.0.6) names the line of an error only
 * when it reads a file: from a buffer it points into the first line. The file's name is then spelled as the
 * program spells its stdin, so a refusal reads the same on either path (and snippet-errors.ts finds the line).
 */
function runDocument(b: Bound, ctx: unknown, text: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-nft-'));
  const file = join(dir, 'document.nft');
  try {
    writeFileSync(file, text, { mode: 0o600 });
    return b.runFile(ctx, file);
  } finally {
    // The directory holds this one file: unlink and rmdir, not rmSync's recursive walk (Node's rimraf, loaded for it).
    rmSync(file, { force: true });
    rmdirSync(dir);
  }
}

const ALL_SIGNALS = Buffer.alloc(SIGSET_BYTES, 0xff);

/**
 * Every signal is held off this thread for the call. libnftables waits for the kernel's answer to a transaction in
 * select(), which any signal with a handler interrupts (SA_RESTART or not), and Node has handlers (SIGCHLD, SIGTERM,
 * the profiler's SIGPROF): the kernel has committed or refused by then, but the answer is never read, and nft
 * reports "Interrupted system call" for a document that is in fact loaded. The program has no handlers, so it
 * never sees this. Held signals arrive as soon as the call returns.
 */
function withSignalsHeld<T>(b: Bound, call: () => T): { result: T; raised: boolean } {
  const old = Buffer.alloc(SIGSET_BYTES);
  const pending = Buffer.alloc(SIGSET_BYTES);
  if (b.libc.sigmask(SIG_BLOCK, ALL_SIGNALS, old) !== 0) throw new Error('libnftables: pthread_sigmask failed');
  try {
    const result = call();
    return { result, raised: b.libc.sigpending(pending) === 0 && pending.some((byte) => byte !== 0) };
  } finally {
    b.libc.sigmask(SIG_SETMASK, old, null);
  }
}

/** One turn of the event loop: libuv hands a delivered signal to its JS handler (interrupt.ts's trap) in its poll. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One context per call, as each run of the program is one: no cache outlives the call (a long-running service would
 * otherwise keep a listing's every element), and none can be stale. Making one costs far less than the call.
 */
function library(b: Bound): NftLibrary {
  return {
    async run(text, opts = {}) {
      const { result, raised } = withSignalsHeld(b, () => runHeld(b, text, opts));
      // A SIGTERM held through a load must be seen by the checkpoint right after it, as it would be after a program.
      if (raised) await turn();
      return result;
    },
  };
}

function runHeld(b: Bound, text: string, opts: NftOptions): RunResult {
  mark('exec libnftables');
  const ctx = b.newContext();
  if (!ctx) throw new Error('libnftables: nft_ctx_new failed');
  try {
    // Output and errors go to buffers read back here, not to our stdout and stderr.
    b.bufferOutput(ctx);
    b.bufferErrors(ctx);
    b.setFlags(ctx, opts.json ? OUTPUT_JSON : 0);
    b.setDryRun(ctx, opts.check === true);
    const multiline = text.indexOf('\n') < text.length - 1;
    const rc = multiline ? runDocument(b, ctx, text) : b.runBuffer(ctx, text);
    const stdout = b.output(ctx) ?? '';
    const stderr = (b.errors(ctx) ?? '').replace(/^[^\n:]*\/tsfw-nft-[^/\n]*\/document\.nft:/gm, '/dev/stdin:');
    mark('exited libnftables');
    if (rc !== 0) log.debug(`libnftables: exited 1: ${stderr.trim()}`);
    return { exitCode: rc === 0 ? 0 : 1, stdout, stderr };
  } finally {
    b.freeContext(ctx);
  }
}

/** The library, or undefined when it (or koffi) cannot be loaded here. */
export async function nftLibrary(): Promise<NftLibrary | undefined> {
  if (bound === undefined) {
    try {
      const [koffi, c] = [await ffi(), await libc()];
      bound = koffi && c ? bind(koffi, c) : null;
    } catch (err) {
      log.debug(`libnftables cannot be loaded in process, running nft instead: ${(err as Error).message}`);
      bound = null;
    }
  }
  return bound === null ? undefined : library(bound);
}
