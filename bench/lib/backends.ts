/**
 * tsfirewall timed per backend: iptables-nft (this machine's iptables) and nftables, each in a namespace of its own
 * (a start on one backend takes over from the other, which would time the switch, not the start). The nftables
 * backend is probed once per run: until `tsfirewall start` works with it, its rows say so instead of a figure.
 */
import { OPEN_TABLES } from './lab.js';
import type { BenchLab, Role } from './lab.js';
import type { Agent } from './ns.js';
import { flushRuleset } from './nft-floors.js';

export const BACKENDS = ['iptables-nft', 'nftables'] as const;
export type BenchBackend = (typeof BACKENDS)[number];

export const NFT_UNAVAILABLE = 'nftables backend not available in this build';

/** The namespace each backend's tsfirewall runs in. */
export const BACKEND_ROLE: Readonly<Record<BenchBackend, Role>> = { 'iptables-nft': 'fw', nftables: 'nf' };

/** $TSFIREWALL_BACKEND overrides the config's BACKEND=auto (src/backend/choose.ts). */
export const backendEnv = (b: BenchBackend) => ({ TSFIREWALL_BACKEND: b });

/** Boot state for a backend: open, empty tables (iptables), or no table at all (nftables). */
export async function resetBackend(b: BenchBackend, agent: Agent): Promise<void> {
  if (b === 'nftables') return flushRuleset(agent);
  await agent.must(['iptables-restore', '-w', '5'], OPEN_TABLES);
  await agent.must(['ip6tables-restore', '-w', '5'], OPEN_TABLES);
}

export interface BackendProbe {
  readonly available: readonly BenchBackend[];
  /** Why a backend is left out: its start's own error. */
  readonly missing: ReadonlyMap<BenchBackend, string>;
}

const probes = new WeakMap<BenchLab, Promise<BackendProbe>>();

/** Starts the seed's config once on each backend, in its namespace; the result is shared by every section. */
export function probeBackends(lab: BenchLab, configPath: string): Promise<BackendProbe> {
  if (!probes.has(lab)) probes.set(lab, probe(lab, configPath));
  return probes.get(lab)!;
}

async function probe(lab: BenchLab, configPath: string): Promise<BackendProbe> {
  const available: BenchBackend[] = [];
  const missing = new Map<BenchBackend, string>();
  for (const b of BACKENDS) {
    const agent = lab.agents[BACKEND_ROLE[b]];
    await resetBackend(b, agent);
    const r = await agent.send({ op: 'run', argv: lab.tsfw('start', configPath), env: backendEnv(b) });
    if (r.code === 0) available.push(b);
    else if (b === 'iptables-nft') throw new Error(`[${agent.ns}] tsfirewall start on iptables-nft exited ${r.code}: ${r.stderr.trim()}`);
    else missing.set(b, r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`);
  }
  return { available, missing };
}
