/**
 * The nftables backend calls libnftables in process (src/exec/libnftables.ts) where it would run the system's nft,
 * and the nft program otherwise. Both paths must leave the kernel in the same state and say the same words: the
 * ruleset a start loads, the bans a batch adds, a refused snippet traced to its file and line. The trace marks show
 * which path ran; with koffi's binary hidden (/dev/null bound over it in a private mount namespace) the program runs.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { mustExec, useCliCopy } from './helpers.js';
import { cliEnv, kernelState, runCli, useScratch, type CliOptions } from './safety-kit.js';

const cli = useCliCopy();
const scratch = useScratch();
const CONFIG = 'FAIL2BAN=no\nSERVICES=ssh web\nIPV6=mirror\n';

type Path = 'library' | 'program' | 'hidden';
const ENV: Readonly<Record<Path, Record<string, string>>> = {
  library: { TSFIREWALL_TRACE: '1' },
  program: { TSFIREWALL_TRACE: '1', TSFIREWALL_NFT: 'program' },
  hidden: { TSFIREWALL_TRACE: '1' },
};

/** Which way the verb reached nft, from its trace marks. */
function pathsIn(stderr: string): { library: number; program: number } {
  const marks = (JSON.parse(/tsfw-trace (\[.*\])/.exec(stderr)?.[1] ?? '[]') as [number, string][]).map(([, name]) => name);
  return { library: marks.filter((m) => m === 'exec libnftables').length, program: marks.filter((m) => /^exec \S*\/nft$/.test(m)).length };
}

describe('nftables through libnftables and through the nft program', () => {
  let lab: Lab;
  let fw: Host;
  const config = join(scratch.dir, 'tsfirewall.conf');
  const dropins = `${config}.d`;
  const stateBy = new Map<Path, string[]>();

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
    mkdirSync(dropins, { recursive: true });
    writeFileSync(config, CONFIG);
  });
  afterAll(async () => { await lab?.destroy(); });

  const run = async (path: Path, args: readonly string[]) => {
    const o: CliOptions = { backend: 'nftables', config, env: ENV[path] };
    if (path !== 'hidden') return runCli(cli.path, fw, scratch, args, o);
    // A platform koffi has no binary for: the library cannot be called, and the program does the work.
    const hide = ['unshare', '--mount', '--', 'sh', '-c', `mount --bind /dev/null ${join(dirname(cli.path), 'koffi.node')} && exec "$@"`, 'sh'];
    return fw.exec([...hide, process.execPath, cli.path, '--config', config, ...args], { env: cliEnv(scratch, o), timeoutMs: 60_000 });
  };

  test.each(['library', 'program', 'hidden'] as const)('%s: start, ban, reload and stop, and only that path ran', async (path) => {
    await mustExec(fw, ['nft', 'flush', 'ruleset']);
    // The bans the last path's stop saved would come back with this start.
    rmSync(scratch.stateDir, { recursive: true, force: true });
    const verbs = [['start'], ['ban', '198.51.100.7', '203.0.113.9'], ['reload'], ['status']];
    const states: string[] = [];
    for (const args of verbs) {
      const r = await run(path, args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      const used = pathsIn(r.stderr);
      if (path === 'library') expect(used, args.join(' ')).toEqual({ library: expect.any(Number), program: 0 });
      else expect(used, args.join(' ')).toEqual({ library: 0, program: expect.any(Number) });
      expect(used.library + used.program, args.join(' ')).toBeGreaterThan(0);
      states.push(await kernelState(fw, 'nftables'));
    }
    expect(states[1]).toMatch(/198\.51\.100\.7/);
    expect(states[2]).toBe(states[1]);
    expect((await run(path, ['stop'])).exitCode).toBe(0);
    expect(await kernelState(fw, 'nftables')).not.toMatch(/tsfirewall/);
    stateBy.set(path, states);
  });

  test('every path left the kernel in the same state after each verb', () => {
    expect(stateBy.size).toBe(3);
    expect(stateBy.get('program')).toEqual(stateBy.get('library'));
    expect(stateBy.get('hidden')).toEqual(stateBy.get('library'));
  });

  test('a snippet nft refuses is named by file and line, in the same words on each path, and nothing changes', async () => {
    await mustExec(fw, ['nft', 'flush', 'ruleset']);
    expect((await run('library', ['start'])).exitCode).toBe(0);
    const before = await kernelState(fw, 'nftables');
    writeFileSync(join(dropins, '60-bad.before.nft'), 'chain input {\n\ttcp dport 81 accept\n\ttcp dport 82 acept\n}\n');
    try {
      const said = new Map<Path, string>();
      for (const path of ['library', 'program'] as const) {
        const r = await run(path, ['reload']);
        expect(r.exitCode, r.stderr).toBe(6);
        const line = /error: .*/.exec(r.stderr)?.[0] ?? '';
        expect(line).toMatch(/nft rejected the ruleset: the snippet 60-bad\.before\.nft, line 3 \(tcp dport 82 acept\): \/dev\/stdin:\d+:\d+-\d+: Error: syntax error/);
        expect(r.stderr).toMatch(/; nothing was changed/);
        said.set(path, line);
        expect(await kernelState(fw, 'nftables')).toBe(before);
      }
      expect(said.get('program')).toBe(said.get('library'));
    } finally {
      rmSync(join(dropins, '60-bad.before.nft'));
      await run('library', ['stop']);
    }
  });
});
