/**
 * The fleet's verdicts into the kernel's ban sets, through the backend's BanStore like every other ban: a burst of
 * events becomes one add per (set, time left) and one remove per set, not one program per address. Times left are
 * rounded up by at most 2% (as saved bans are on start), so 10k bans with 10k different ends still take about 50
 * batches per set. Chain-mode bans get their end in the chain ledger, which the service lifts on time.
 */
import { ipsetTime } from '../../bans/conf.js';
import { forgetChainBans, recordChainBans } from '../../bans/expiry.js';
import type { BanTarget, FirewallBackend } from '../../backend/types.js';
import type { Verdict } from './judge.js';

type Applied = Extract<Verdict, { kind: 'ban' | 'unban' }>;

const roundUp = (seconds: number) => { const step = Math.max(1, Math.ceil(seconds / 50)); return Math.ceil(seconds / step) * step; };

export interface KernelBatch {
  readonly adds: { readonly target: BanTarget; readonly ips: string[]; readonly timeout: number; readonly end: number | null }[];
  readonly removes: { readonly target: BanTarget; readonly ips: string[] }[];
}

/** Pure: the programs' worth of work in a list of verdicts; the last verdict for an address wins. */
export function planBatch(verdicts: readonly Applied[], now: number): KernelBatch {
  const last = new Map<string, Applied>();
  for (const v of verdicts) {
    if ((v.kind === 'ban' && !v.changed) || (v.kind === 'unban' && !v.remove)) continue;
    const k = `${v.jail.jail} ${v.ip}`;
    last.delete(k);
    last.set(k, v);
  }
  const adds = new Map<string, KernelBatch['adds'][number]>();
  const removes = new Map<string, KernelBatch['removes'][number]>();
  for (const v of last.values()) {
    const target: BanTarget = { family: v.family, name: v.jail.targets[v.family]!, kind: v.jail.kind };
    if (v.kind === 'unban') {
      const k = `${target.kind} ${target.name}`;
      (removes.get(k) ?? removes.set(k, { target, ips: [] }).get(k)!).ips.push(v.ip);
      continue;
    }
    if (v.end !== null && v.end <= now) continue;
    const timeout = v.end === null ? 0 : ipsetTime(roundUp(Math.ceil((v.end - now) / 1000)));
    const k = `${target.kind} ${target.name} ${target.kind === 'chain' ? v.end : timeout}`;
    (adds.get(k) ?? adds.set(k, { target, ips: [], timeout, end: v.end }).get(k)!).ips.push(v.ip);
  }
  return { adds: [...adds.values()], removes: [...removes.values()] };
}

/** Runs a batch; resolves to the failures (the kernel refused, the set is not there), each named. */
export async function applyBatch(backend: FirewallBackend, batch: KernelBatch, stateDir: string): Promise<string[]> {
  const failures: string[] = [];
  for (const r of batch.removes) {
    try {
      await backend.bans.remove(r.target, r.ips);
      if (r.target.kind === 'chain') forgetChainBans(r.target, r.ips, stateDir);
    } catch (err) { failures.push(`removing ${r.ips.length} from ${r.target.name}: ${(err as Error).message}`); }
  }
  for (const a of batch.adds) {
    try {
      await backend.bans.add(a.target, a.ips, a.target.kind === 'set' ? { timeout: a.timeout } : {});
      if (a.target.kind === 'chain' && a.end !== null) recordChainBans(a.target, a.ips, a.end, stateDir);
    } catch (err) { failures.push(`adding ${a.ips.length} to ${a.target.name}: ${(err as Error).message}`); }
  }
  return failures;
}
