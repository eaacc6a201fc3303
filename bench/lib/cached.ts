/**
 * The cached start (packaging/tsfirewall.sh, cached-start.sh) as a contestant: the launcher the packages install,
 * beside the bench's copy of the bundle, with a cache of its own. One start fills the entry; every measured start
 * after a reset must be a hit, which the run proves (a start that ran Node leaves its trace marks on stderr).
 */
import { mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BenchLab } from './lab.js';
import type { Agent } from './ns.js';
import type { Contestant } from './rounds.js';

const LAUNCHER = new URL('../../packaging/tsfirewall.sh', import.meta.url).pathname;

export async function cachedStartContestant(lab: BenchLab, agent: Agent, name: string, config: string, reset: () => Promise<void>): Promise<Contestant> {
  const env = {
    TSFIREWALL_BACKEND: 'nftables', TSFIREWALL_LIB: dirname(lab.paths.cli), TSFIREWALL_CONFIG: config,
    TSFIREWALL_CACHE_DIR: mkdtempSync(join(lab.dir, 'start-cache-')), TSFIREWALL_TRACE: '1',
  };
  const start = async () => {
    const r = await agent.send({ op: 'run', argv: ['sh', LAUNCHER, 'start'], env });
    if (r.code !== 0) throw new Error(`[${agent.ns}] cached start exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
    return r;
  };
  await reset();
  await start();
  return {
    name,
    prepare: reset,
    measure: async () => {
      const r = await start();
      if (/tsfw-trace/.test(r.stderr)) throw new Error(`[${agent.ns}] the cached start missed its entry and ran Node`);
      return r.ms;
    },
  };
}
