/**
 * Per-packet cost of the ban check: TCP connection rate from the WAN client to a host with no bans, with 10k bans
 * in an ipset (one hash lookup a packet) and with 10k per-IP DROP rules (the seed's chain: a linear walk a packet).
 */
import type { Agent } from '../lib/ns.js';
import { bar, type Section } from '../lib/results.js';
import { interleave } from '../lib/rounds.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { targets } from './targets.js';

export const PACKET_GOAL = 0.9;

interface Probe { readonly done: number; readonly failed: number; readonly ms: number; readonly perSecond: number }

async function connectRate(cl: Agent, tcp: string, ip: string, count: number, budgetMs: number, failures: number[]): Promise<number> {
  const argv = [process.execPath, tcp, 'connect', ip, '22', String(count), '4', String(budgetMs)];
  const r = await cl.send({ op: 'run', argv, timeoutMs: budgetMs + 15_000 });
  if (r.code !== 0) throw new Error(`probe to ${ip} exited ${r.code}: ${r.stderr}`);
  const p = JSON.parse(r.stdout) as Probe;
  // Lost connections would flatter nothing but hide a broken setup: more than 1% lost is an error.
  if (p.done === 0 || p.failed > p.done / 100) throw new Error(`probe to ${ip}: ${p.done} done, ${p.failed} failed`);
  failures.push(p.failed);
  return p.perSecond;
}

export const packetsSection: Section = async ({ lab, settings, log }) => {
  await targets(lab);
  const { cl } = lab.agents;
  const count = settings.quick ? 500 : 2000;
  const budget = settings.quick ? 5000 : 10_000;
  const failures: number[] = [];
  const probe = (role: 'p0' | 'ps' | 'pc') => () => connectRate(cl, lab.paths.tcp, lab.ips[role], count, budget, failures);
  for (const role of ['p0', 'ps', 'pc'] as const) await connectRate(cl, lab.paths.tcp, lab.ips[role], 50, 5000, []); // ARP, caches
  const samples = await interleave([
    { name: '0 bans', measure: probe('p0') },
    { name: 'ipset, 10k bans', measure: probe('ps') },
    { name: 'chain, 10k bans', measure: probe('pc') },
  ], { rounds: settings.rounds(11, 2), budgetMs: settings.budgetMs, rand: settings.rand });
  log(`per-packet: ${samples['0 bans']!.length} rounds`);
  const ipsetRatio = summarize(pairedRatios(samples['ipset, 10k bans']!, samples['0 bans']!));
  const chainRatio = summarize(pairedRatios(samples['chain, 10k bans']!, samples['0 bans']!));
  const rate = (k: string) => summarize(samples[k]!).median.toFixed(0);
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return {
    name: 'packets',
    rows: [
      { goal: `ipset mode, 10k bans: >= ${pct(PACKET_GOAL)} of the 0-ban connect rate`, value: `${pct(ipsetRatio.median)} (${rate('ipset, 10k bans')} vs ${rate('0 bans')} conn/s; per-round IQR ${pct(ipsetRatio.p25)}–${pct(ipsetRatio.p75)})`, pass: ipsetRatio.median >= PACKET_GOAL },
      { goal: 'chain mode, 10k bans (info)', value: `${pct(chainRatio.median)} of the 0-ban rate (${rate('chain, 10k bans')} conn/s)` },
    ],
    panels: [{
      title: 'TCP connects per second through the firewall (higher is better)', unit: 'conn/s',
      bars: ['0 bans', 'ipset, 10k bans', 'chain, 10k bans'].map((k) => bar(k, samples[k]!)),
      goal: { label: `${pct(PACKET_GOAL)} of 0 bans`, value: PACKET_GOAL * summarize(samples['0 bans']!).median },
    }],
    notes: [`Each run: up to ${count} connections (4 at a time, at most ${budget / 1000} s) from the WAN client through the lab router to port 22; ` +
      `each one a full exchange (handshake, one line, close). Lost connections over all runs: ${failures.reduce((a, b) => a + b, 0)}.`],
    raw: { samples, count },
  };
};
