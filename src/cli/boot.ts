/**
 * The process entry of the shipped bundle (dist/tsfirewall.cjs). It compiles the CLI (core.cjs, next to it) with a
 * V8 code cache, one per verb, because compiling our JavaScript is a large share of a verb's cold start: V8 then
 * skips parsing and compiling whatever that verb ran last time. Node 22's module.enableCompileCache does this for
 * modules, but the distributions ship Node 18 and 20, so the loader does it with node:vm, which every version has.
 *
 * The cache is an optimisation, never a dependency: a missing, unreadable, rejected (other Node, other flags) or
 * untrusted cache file means a normal compile, and then a fresh cache is written when the verb ends. A cache file
 * is bytecode that root runs, so it is used only when it and its directory belong to us and nobody else can write
 * them; its name carries the bundle's content hash, because V8 only checks the source's length.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { mark } from '../trace.js';
import { verbOf } from './options.js';

declare const __TSFW_CORE_HASH__: string;

const CORE = join(__dirname, 'core.cjs');
const CACHE_DIR = process.env.TSFIREWALL_CACHE_DIR ?? '/var/cache/tsfirewall';

function cacheFile(dir: string, argv: readonly string[]): string {
  const verb = verbOf(argv) ?? 'none';
  const key = /^[a-z][a-z-]{0,19}$/.test(verb) ? verb : 'other';
  return join(dir, `${__TSFW_CORE_HASH__}-${process.version}-${process.arch}-${key}.v8`);
}

/** Ours alone: owned by this user, writable by nobody else. */
function trusted(path: string): boolean {
  try {
    const st = statSync(path);
    return st.uid === process.geteuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function readCache(dir: string, file: string): Buffer | undefined {
  if (!trusted(dir) || !trusted(file)) return undefined;
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Atomic (a reader sees the old file or the new one), and drops the caches of other builds. */
function writeCache(dir: string, file: string, data: Buffer): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!trusted(dir)) return;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.v8') && !name.startsWith(`${__TSFW_CORE_HASH__}-`)) unlinkSync(join(dir, name));
    }
  } catch {
    // A read-only or full disk costs the next run its cache, nothing else.
  }
}

function boot(): void {
  mark('entry');
  const source = readFileSync(CORE, 'utf8');
  const file = CACHE_DIR === '' ? undefined : cacheFile(CACHE_DIR, process.argv.slice(2));
  const cachedData = file === undefined ? undefined : readCache(CACHE_DIR, file);
  // The bundle is already the CommonJS wrapper function (scripts/bundle.mjs), so the text compiles as read.
  const script = new Script(source, {
    filename: CORE,
    cachedData,
  });
  if (file !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    // At exit the cache also holds every function this verb compiled while it ran, not just the top level.
    process.once('exit', () => writeCache(CACHE_DIR, file, script.createCachedData()));
  }
  mark('core compiled');
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(CORE), module, CORE, dirname(CORE));
}

boot();
