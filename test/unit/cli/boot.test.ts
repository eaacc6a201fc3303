/**
 * The boot loader's code cache: written when a verb ends, used (not rewritten) on the next run, replaced when V8
 * rejects it or when someone else could have written it, and dropped when it belongs to another build.
 * Runs the real bundle (scripts/bundle.mjs) with node, as the packages do.
 */
import { execa } from 'execa';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../../scripts/bundle.mjs';
import { verbOf } from '../../../src/cli/options.js';

let dir: string;
let cache: string;

const cli = (args: string[], cacheDir = cache) =>
  execa(process.execPath, [join(dir, 'tsfirewall.cjs'), ...args], { env: { TSFIREWALL_CACHE_DIR: cacheDir }, reject: false });
const cacheFiles = () => (existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.v8')).sort() : []);
const only = (suffix: string) => {
  const files = cacheFiles().filter((f) => f.endsWith(suffix));
  expect(files).toHaveLength(1);
  return join(cache, files[0]!);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsfw-boot-'));
  await bundle(dir, { version: 'boot-test' });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('boot loader code cache', () => {
  it('writes one cache per verb when the verb ends, and uses it untouched on the next run', async () => {
    cache = join(dir, 'cache-a');
    const first = await cli(['--version']);
    expect(first.stdout).toBe('tsfirewall boot-test');
    const file = only(`-${process.version}-${process.arch}-none.v8`);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = statSync(file);

    const second = await cli(['--version']);
    expect(second.stdout).toBe('tsfirewall boot-test');
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    const unknown = await cli(['-c', '/nonexistent', 'frobnicate']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(cacheFiles().map((f) => f.replace(/^.*-/, ''))).toEqual(['frobnicate.v8', 'none.v8']);
  });

  it('replaces a cache V8 rejects, and the verb still runs', async () => {
    cache = join(dir, 'cache-b');
    await cli(['--version']);
    const file = only('-none.v8');
    writeFileSync(file, Buffer.alloc(4096, 0x5a), { mode: 0o600 });
    const r = await cli(['--version']);
    expect(r.stdout).toBe('tsfirewall boot-test');
    expect(readFileSync(file).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
  });

  it('does not use a cache file others can write, and replaces it with its own', async () => {
    cache = join(dir, 'cache-c');
    await cli(['--version']);
    const file = only('-none.v8');
    // A valid cache, but world-writable: anyone could have put bytecode in it that root would run.
    chmodSync(file, 0o666);
    const before = statSync(file);
    const r = await cli(['--version']);
    expect(r.stdout).toBe('tsfirewall boot-test');
    const after = statSync(file);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
  });

  it('drops the caches of other builds when it writes its own', async () => {
    cache = join(dir, 'cache-d');
    await cli(['--version']);
    const stale = join(cache, `0000000000000000-${process.version}-${process.arch}-status.v8`);
    writeFileSync(stale, 'old', { mode: 0o600 });
    await cli(['frobnicate']);
    expect(existsSync(stale)).toBe(false);
    expect(cacheFiles()).toHaveLength(2);
  });

  it('is off when TSFIREWALL_CACHE_DIR is empty', async () => {
    cache = join(dir, 'cache-e');
    const r = await cli(['--version'], '');
    expect(r.stdout).toBe('tsfirewall boot-test');
    expect(existsSync(cache)).toBe(false);
  });
});

describe('verbOf (the cache key)', () => {
  it.each([
    [['status'], 'status'],
    [['-c', '/etc/x', 'status'], 'status'],
    [['--config=/etc/x', '-j', 'bans'], 'bans'],
    [['--jail', 'ssh', 'ban', '192.0.2.7'], 'ban'],
    [['--confirm', '30', 'reload'], 'reload'],
    [['-v'], undefined],
    [[], undefined],
  ])('%j -> %s', (argv, verb) => {
    expect(verbOf(argv)).toBe(verb);
  });
});
