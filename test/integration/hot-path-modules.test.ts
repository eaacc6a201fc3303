/**
 * On nftables, start, reload and status run no program, so they must not load the Node modules that only programs
 * and sockets need: node:net and the stream modules it brings, child_process, perf_hooks. Each adds to every
 * start's peak RSS and load time, and any top-level import of them in the hot path's code brings them back
 * silently. The real bundle in a namespace, with a preload that records which of Node's own modules were loaded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Host } from '../harness/netns.js';
import { tsfwEnv, useCliCopy, useLoneFirewall } from './helpers.js';

const cli = useCliCopy();
let fw: Host;
useLoneFirewall((h) => { fw = h; });

const work = mkdtempSync(join(tmpdir(), 'tsfw-modules-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const preload = join(work, 'record-modules.cjs');
writeFileSync(preload, `const out = process.env.TSFW_TEST_MODULES_OUT;
process.once('exit', () => require('node:fs').writeFileSync(out, process.moduleLoadList.join('\\n')));
`);

const HEAVY = ['net', 'stream', 'child_process', 'perf_hooks', 'cluster', 'dgram', 'https', 'zlib', 'crypto'];

async function builtinsLoadedBy(verb: string, config: string): Promise<string[]> {
  const out = join(work, `${verb}.txt`);
  const r = await fw.exec([process.execPath, '-r', preload, cli.path, '--config', config, verb], {
    env: { ...tsfwEnv(cli.path, 'nftables', fw.ns), TSFW_TEST_MODULES_OUT: out, TSFIREWALL_NO_CACHED_START: '1' },
    timeoutMs: 60_000,
  });
  expect(r.exitCode, `${verb}: ${r.stderr}`).toBe(0);
  return readFileSync(out, 'utf8').split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
}

describe('nftables hot paths', () => {
  test('start, reload and status load none of the modules that only programs and sockets need', async () => {
    const config = cli.configs.write('MYIP=192.0.2.10\nNETMASK=24\nFAIL2BAN=no\nSERVICES=ssh\n');
    for (const verb of ['start', 'reload', 'status']) {
      const loaded = await builtinsLoadedBy(verb, config);
      // The preload's own record shows the bundle ran: its entry loads node:vm to compile the CLI.
      expect(loaded, verb).toContain('vm');
      expect(loaded.filter((m) => HEAVY.includes(m)), verb).toEqual([]);
    }
    expect((await fw.exec(['nft', 'list', 'table', 'inet', 'tsfirewall'], { timeoutMs: 30_000 })).exitCode).toBe(0);
  }, 120_000);
});
