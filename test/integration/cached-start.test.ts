/**
 * The cached start (packaging/tsfirewall.sh + cached-start.sh, src/state/start-cache.ts) in a lab namespace on
 * nftables: the launcher as the packages install it, beside a private copy of the bundle. A start after a stop
 * with nothing changed loads the last start's document without Node (no trace marks, the same table, status
 * intact); any change the document depends on, and every case the shell cannot handle, runs the full start.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Host } from '../harness/netns.js';
import { mustExec, nftTable, tsfwEnv, useCliCopy, useLoneFirewall, type Result } from './helpers.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const cli = useCliCopy();
const cache = mkdtempSync(join(tmpdir(), 'tsfw-start-cache-'));
const configDir = mkdtempSync(join(tmpdir(), 'tsfw-cached-conf-'));
const CONFIG = join(configDir, 'tsfirewall');
const writeConfig = (text: string) => { writeFileSync(CONFIG, text); chmodSync(CONFIG, 0o600); };
const BASE = 'FAIL2BAN=no\nSERVICES=ssh web\n';

describe.sequential('the cached start', () => {
  let fw: Host;
  useLoneFirewall((host) => { fw = host; });
  let lib: string;

  beforeAll(() => {
    lib = dirname(cli.path);
    writeConfig(BASE);
  });
  afterAll(() => { rmSync(cache, { recursive: true, force: true }); rmSync(configDir, { recursive: true, force: true }); });

  /** The launcher, traced: a full start prints Node's trace marks on stderr, the cached path cannot. */
  const launch = (args: readonly string[], env: Record<string, string> = {}): Promise<Result> => fw.exec(withoutFail2ban(['sh', join(ROOT, 'packaging/tsfirewall.sh'), ...args]), {
    env: { ...tsfwEnv(cli.path, 'nftables', fw.ns), TSFIREWALL_LIB: lib, TSFIREWALL_CACHE_DIR: cache, TSFIREWALL_CONFIG: CONFIG, TSFIREWALL_TRACE: '1', ...env },
    timeoutMs: 60_000,
  });
  const ok = async (args: readonly string[]) => {
    const r = await launch(args);
    expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const usedNode = (r: Result) => /tsfw-trace/.test(r.stderr);
  const entries = () => (existsSync(join(cache, 'start')) ? readdirSync(join(cache, 'start')).sort() : []);
  const stateless = () => nftTable(fw, { stateless: true });

  let compiled = '';

  test('a first start compiles and leaves an entry; the next start after a stop loads it without Node', async () => {
    const first = await ok(['start']);
    expect(usedNode(first)).toBe(true);
    expect(entries()).toEqual([expect.stringMatching(/^full-[0-9a-f]{64}$/)]);
    compiled = await stateless();
    await ok(['stop']);
    const second = await ok(['start']);
    expect(usedNode(second)).toBe(false);
    expect(second.stdout).toBe(first.stdout);
    expect(await stateless()).toBe(compiled);
    const status = await ok(['status']);
    expect(status.stdout).not.toMatch(/pending|tampered|not intact/);
  });

  test('stop after a cached start removes everything, as after any start', async () => {
    await ok(['stop']);
    expect(await nftTable(fw)).toBe('');
  });

  test('a changed config misses, compiles, and replaces the entry', async () => {
    const before = entries();
    writeConfig("FAIL2BAN=no\nSERVICES=ssh\n");
    const r = await ok(['start']);
    expect(usedNode(r)).toBe(true);
    expect(entries()).toHaveLength(1);
    expect(entries()).not.toEqual(before);
    await ok(['stop']);
    writeConfig(BASE);
  });

  test('a new address on the host misses (the document may depend on it)', async () => {
    await mustExec(fw, ['ip', 'addr', 'add', '192.0.2.11/24', 'dev', fw.iface]);
    try {
      expect(usedNode(await ok(['start']))).toBe(true);
      await ok(['stop']);
    } finally {
      await mustExec(fw, ['ip', 'addr', 'del', '192.0.2.11/24', 'dev', fw.iface]);
    }
  });

  test('every case the shell leaves to the full start: table loaded, saved bans, an entry others can write, a document nft refuses', async () => {
    await ok(['start']);
    await ok(['stop']);
    expect(usedNode(await ok(['start']))).toBe(false);
    // Already running: a start of a loaded firewall is Node's (it reloads).
    expect(usedNode(await ok(['start']))).toBe(true);
    // A ban saved by stop must be restored, which only the full start does.
    await ok(['ban', '198.51.100.7']);
    await ok(['stop']);
    const restored = await ok(['start']);
    expect(usedNode(restored)).toBe(true);
    expect(restored.stdout).toMatch(/1 saved ban restored/);
    await ok(['unban', '198.51.100.7']);
    await ok(['stop']);
    const [entry] = entries();
    const dir = join(cache, 'start', entry!);
    chmodSync(dir, 0o770);
    expect(usedNode(await ok(['start']))).toBe(true);
    await ok(['stop']);
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'document.nft'), 'table inet tsfirewall { chain broken { type filter hook input priority 0; policy drop; bogus } }\n');
    const fallback = await ok(['start']);
    expect(usedNode(fallback)).toBe(true);
    expect(await stateless()).toBe(compiled);
    await ok(['stop']);
  });

  test('--early has its own entry, keyed without the host facts', async () => {
    expect(usedNode(await ok(['start', '--early']))).toBe(true);
    const early = await stateless();
    expect(early).toContain('tsfw-boot');
    await ok(['stop']);
    expect(usedNode(await ok(['start', '--early']))).toBe(false);
    expect(await stateless()).toBe(early);
    expect(entries().map((e) => e.split('-')[0])).toEqual(['early', 'full']);
    await ok(['stop']);
  });

  test('TSFIREWALL_NO_CACHED_START=1 and any other argument go straight to Node', async () => {
    const forced = await launch(['start'], { TSFIREWALL_NO_CACHED_START: '1' });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(usedNode(forced)).toBe(true);
    await ok(['stop']);
  });
});
