/**
 * `npm run bench [-- --quick] [-- --only start,bans] [-- --seed N]`: builds a throwaway namespace lab, runs each
 * section's interleaved rounds, and writes bench/results/latest.{md,svg} plus raw JSON under bench/results/raw/.
 * A quick run (or a partial one) writes only under raw/, so it never replaces the full figures.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBenchLab } from './lib/lab.js';
import { markdown, type RunInfo } from './lib/report.js';
import type { Section, SectionResult, Settings } from './lib/results.js';
import { rng } from './lib/stats.js';
import { chart } from './lib/svg.js';
import { bansSection } from './sections/bans.js';
import { coldstartSection } from './sections/coldstart.js';
import { memorySection } from './sections/memory.js';
import { packetsSection } from './sections/packets.js';
import { peersSection } from './sections/peers.js';
import { reloadSection } from './sections/reload.js';
import { scalingSection } from './sections/scaling.js';
import { startSection } from './sections/start.js';

const SECTIONS: Readonly<Record<string, Section>> = {
  start: startSection, scaling: scalingSection, coldstart: coldstartSection, bans: bansSection,
  reload: reloadSection, peers: peersSection, packets: packetsSection, memory: memorySection,
};

const repo = fileURLToPath(new URL('../../', import.meta.url));
const at = (p: string) => `${repo}${p}`;
const PRODUCT = '.cache/bench/product';

function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('the bench creates network namespaces: run it as root');
  if (!existsSync(at('dist/tsfirewall.cjs'))) throw new Error('dist/tsfirewall.cjs is missing: npm run build');
  // Measure a private copy: a concurrent `npm run build` empties dist/ while it works.
  rmSync(at(PRODUCT), { recursive: true, force: true });
  cpSync(at('dist'), at(PRODUCT), { recursive: true });
  // BACKEND=auto now means nftables wherever nft is installed; the bench's setups (ipset ban sets, iptables floors,
  // show's iptables document) are iptables-nft's, and every nftables contestant says TSFIREWALL_BACKEND=nftables.
  process.env.TSFIREWALL_BACKEND = 'iptables-nft';
  // The verbs' code caches (src/cli/boot.ts) start empty in a directory of the bench's own; the agents inherit it.
  process.env.TSFIREWALL_CACHE_DIR = at('.cache/bench/v8-cache');
  rmSync(process.env.TSFIREWALL_CACHE_DIR, { recursive: true, force: true });
  // Journals and loaded-ruleset records of the bench's namespaces stay out of this machine's /run, on a tmpfs as a
  // host's /run is: on a disk every apply's fsyncs would time the disk.
  process.env.TSFIREWALL_RUN_DIR = runDirOnTmpfs() ?? at('.cache/bench/run');
  rmSync(process.env.TSFIREWALL_RUN_DIR, { recursive: true, force: true });
  for (const tool of ['ip', 'iptables', 'ipset', '/usr/bin/time']) {
    try { execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }); } catch { throw new Error(`${tool} is not installed`); }
  }
}

const TMPFS_MAGIC = 0x01021994;

/** A fresh directory under /dev/shm when that is a tmpfs (removed at the end of the run). */
function runDirOnTmpfs(): string | undefined {
  try {
    if (statfsSync('/dev/shm').type !== TMPFS_MAGIC) return undefined;
    return join(mkdtempSync('/dev/shm/tsfw-bench-run-'), 'run');
  } catch {
    return undefined;
  }
}

/** 1/5/15-minute load averages: context for absolute figures on a shared machine. */
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const git = (args: string[]) => { try { return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, seed: { type: 'string' } } });
  const quick = values.quick ?? false;
  const only = values.only?.split(',') ?? Object.keys(SECTIONS);
  const unknown = only.filter((s) => !(s in SECTIONS));
  if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  const seed = Number(values.seed ?? Date.now() % 100_000);
  preflight();
  const settings: Settings = {
    quick, rand: rng(seed), budgetMs: quick ? 20_000 : 60_000,
    rounds: (full, q) => (quick ? q ?? Math.min(full, 3) : full),
  };
  const t0 = Date.now();
  const loadBefore = loadavg();
  const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);
  const lab = await createBenchLab({ cli: at(`${PRODUCT}/tsfirewall.cjs`), agent: at('.cache/bench/agent.mjs'), tcp: at('.cache/bench/tcp.mjs'), loadbans: at('.cache/bench/loadbans.mjs'), programs: at('.cache/bench/programs.cjs'), execaFloor: at('.cache/bench/execa-floor/tsfirewall.cjs') });
  const cleanup = () => { void lab.destroy().finally(() => process.exit(130)); };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  const results: SectionResult[] = [];
  try {
    for (const name of only) {
      log(`${name}...`);
      results.push(await SECTIONS[name]!({ lab, settings, log }));
    }
  } finally {
    await lab.destroy();
    const runDir = process.env.TSFIREWALL_RUN_DIR!;
    if (runDir.startsWith('/dev/shm/tsfw-bench-run-')) rmSync(join(runDir, '..'), { recursive: true, force: true });
  }
  const info: RunInfo = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), mode: quick ? 'quick' : 'full', seed,
    seconds: (Date.now() - t0) / 1000, commit: git(['rev-parse', '--short', 'HEAD']),
    load: `${loadBefore} before, ${loadavg()} after`,
    machine: `${cpus().length} cores, Node ${process.version}, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`,
  };
  write(info, results, quick || values.only !== undefined);
}

function write(info: RunInfo, results: readonly SectionResult[], partial: boolean): void {
  const dir = at('bench/results/');
  mkdirSync(`${dir}raw`, { recursive: true });
  const stamp = info.date.replace(/[:]/g, '');
  writeFileSync(`${dir}raw/${stamp}-${info.mode}.json`, JSON.stringify({ info, results }, null, 1));
  const base = partial ? `${dir}raw/${info.mode}` : `${dir}latest`;
  const md = markdown(info, results).replace('](latest.svg)', `](${base.split('/').pop()}.svg)`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, chart(results.flatMap((r) => r.panels), `tsfirewall bench, ${info.date}, ${info.mode} run (bars: median; whiskers: IQR)`));
  process.stdout.write(md.split('\n## Details')[0] + `\nwritten: ${base}.md, ${base}.svg\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
