/**
 * Per-packet cost of the ban check: TCP connection rate from the WAN client to a host with no bans, with 10k bans
 * in an ipset (one hash lookup a packet) and with 10k per-IP DROP rules (the seed's chain: a linear walk a packet).
 */
import { bar, type Section } from '../lib/results.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { targets } from './targets.js';

export const PACKET_GOAL = 0.9;

interface Compare { readonly rates: Record<string, number[]>; readonly failed: number }

/** One client run: short batches alternating between the three hosts; returns per-batch rates by role. */
async function compareRun(lab: Parameters<Section>[0]['lab'], batches: number, perBatch: number, budgetMs: number): Promise<Compare> {
  const roles = ['p0', 'ps', 'pc'] as const;
  const argv = [process.execPath, lab.paths.tcp, 'compare', '22', String(batches), String(perBatch), '4', String(budgetMs), ...roles.map((r) => lab.ips[r])];
  const r = await lab.agents.cl.send({ op: 'run', argv, timeoutMs: budgetMs + 15_000 });
  if (r.code !== 0) throw new Error(`probe exited ${r.code}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as Compare;
  const rates = Object.fromEntries(roles.map((role) => [role, out.rates[lab.ips[role]] ?? []]));
  const done = rates.p0!.length * perBatch * roles.length;
  // Lost connections would hide a broken setup behind a rate: more than 1% lost is an error.
  if (rates.p0!.length === 0 || out.failed > done / 100) throw new Error(`probe: ${rates.p0!.length} batches, ${out.failed} connections lost`);
  return { rates, failed: out.failed };
}

export const packetsSection: Section = async ({ lab, settings, log }) => {
  await targets(lab);
  const perBatch = settings.quick ? 100 : 250;
  const batches = settings.quick ? 6 : 15;
  const budget = settings.quick ? 15_000 : 40_000;
  await compareRun(lab, 1, 50, 10_000); // ARP, conntrack and caches warm for every host
  const samples: Record<string, number[]> = { '0 bans': [], 'ipset, 10k bans': [], 'chain, 10k bans': [] };
  let lost = 0;
  for (let round = 0; round < settings.rounds(3, 1); round++) {
    const { rates, failed } = await compareRun(lab, batches, perBatch, budget);
    samples['0 bans']!.push(...rates.p0!);
    samples['ipset, 10k bans']!.push(...rates.ps!);
    samples['chain, 10k bans']!.push(...rates.pc!);
    lost += failed;
  }
  log(`per-packet: ${samples['0 bans']!.length} batches`);
  const ipsetRatio = summarize(pairedRatios(samples['ipset, 10k bans']!, samples['0 bans']!));
  const chainRatio = summarize(pairedRatios(samples['chain, 10k bans']!, samples['0 bans']!));
  const rate = (k: string) => summarize(samples[k]!).median.toFixed(0);
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return {
    name: 'packets',
    rows: [
      { goal: `ipset mode, 10k bans: >= ${pct(PACKET_GOAL)} of the 0-ban connect rate`, value: `${pct(ipsetRatio.median)} (${rate('ipset, 10k bans')} vs ${rate('0 bans')} conn/s; per-batch IQR ${pct(ipsetRatio.p25)}–${pct(ipsetRatio.p75)}, n=${ipsetRatio.n})`, pass: ipsetRatio.median >= PACKET_GOAL },
      { goal: 'chain mode, 10k bans (info)', value: `${pct(chainRatio.median)} of the 0-ban rate (${rate('chain, 10k bans')} conn/s; per-batch IQR ${pct(chainRatio.p25)}–${pct(chainRatio.p75)})` },
    ],
    panels: [{
      title: 'TCP connects per second through the firewall (higher is better)', unit: 'conn/s',
      bars: ['0 bans', 'ipset, 10k bans', 'chain, 10k bans'].map((k) => bar(k, samples[k]!)),
      goal: { label: `${pct(PACKET_GOAL)} of 0 bans`, value: PACKET_GOAL * summarize(samples['0 bans']!).median },
    }],
    notes: [`One client in the WAN namespace, through the lab router to port 22 on three hosts, in batches of ${perBatch} ` +
      `connections (4 at a time) that alternate between the hosts in a shuffled order; each connection is a full exchange ` +
      `(handshake, one line, close). Ratios are per batch (the hosts measured within the same second). Lost connections: ${lost}.`],
    raw: { samples, perBatch },
  };
};
