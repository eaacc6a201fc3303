/**
 * The kernel hit-rate limiter's tables, /proc/net/xt_recent/<NAME> (per network namespace), as the seed reads
 * them with `cat`, and cleared as the seed does with `echo clear >`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { TsfwError } from '../../errors.js';
import type { LimiterEntry, RecentSource } from '../types.js';

export const RECENT_DIR = '/proc/net/xt_recent';

export interface RecentEntry {
  readonly src: string;
  readonly ttl: number;
  readonly lastSeen: number;
  /** Jiffies of the remembered hits, in the kernel's ring order. */
  readonly hits: readonly number[];
}

export function parseRecent(text: string): RecentEntry[] {
  return text.split('\n').filter((l) => l.startsWith('src=')).map((line) => {
    const src = /^src=(\S+)/.exec(line)?.[1] ?? '';
    const ttl = Number(/ttl: (\d+)/.exec(line)?.[1] ?? 0);
    const lastSeen = Number(/last_seen: (\d+)/.exec(line)?.[1] ?? 0);
    // xt_recent prints "oldest_pkt: INDEX STAMP, STAMP, ..." (the index is where the ring starts); ipt_recent printed "last_pkts:".
    const stamps = /oldest_pkt: \d+ ([\d, ]+)/.exec(line)?.[1] ?? /last_pkts: ([\d, ]+)/.exec(line)?.[1] ?? '';
    const hits = stamps.split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
    return { src, ttl, lastSeen, hits };
  });
}

export function readRecentTables(dir = RECENT_DIR): Record<string, RecentEntry[]> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).map((name) => [name, parseRecent(readFileSync(`${dir}/${name}`, 'utf8'))]));
}

export function clearRecent(names: readonly string[], dir = RECENT_DIR): readonly string[] {
  const targets = names.length > 0 ? names : existsSync(dir) ? readdirSync(dir) : [];
  for (const name of targets) {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(name) || !existsSync(`${dir}/${name}`)) {
      throw new TsfwError(`no hit-rate list named "${name}" (see \`tsfirewall status\`)`, 2);
    }
    // Modern xt_recent flushes on "/"; the seed's "clear" belongs to the old ipt_recent.
    writeFileSync(`${dir}/${name}`, '/\n');
  }
  return targets;
}

/** The seam's view of the tables: each source with its hit count and the kernel's own line of numbers. */
export function limiterEntries(dir = RECENT_DIR): Record<string, LimiterEntry[]> {
  return Object.fromEntries(Object.entries(readRecentTables(dir)).map(([name, entries]) => [name, entries.map((e) => ({
    src: e.src, hits: e.hits.length, detail: `ttl: ${e.ttl} last_seen: ${e.lastSeen} last_pkts: ${e.hits.join(', ')}`,
  }))]));
}

/**
 * Forgets sources in the named tables (writing "-ADDR" removes one; one the table does not hold is no error), or
 * empties the tables when no sources are given: an unbanned host must not stay cut off by the limiter's window.
 */
export function forgetSources(names: readonly string[], sources: readonly string[] | undefined, dir = RECENT_DIR): readonly string[] {
  if (sources === undefined) return clearRecent(names, dir);
  for (const name of names) {
    for (const ip of sources) {
      try { writeFileSync(`${dir}/${name}`, `-${ip}\n`); } catch { /* not in the table, or no table */ }
    }
  }
  return names;
}

/** The kernel's tick count now and its rate, which xt_recent's hit stamps are in. */
export interface KernelClock { readonly jiffies: number; readonly hz: number }

/** The tick rates Linux is built with. */
const TICK_RATES = [100, 250, 300, 1000];

/**
 * Pure: the clock from /proc/timer_list, whose "now at N nsecs" (time since boot) and "jiffies: N" are read together.
 * The kernel starts jiffies 300 s before wrapping 32 bits (INITIAL_JIFFIES), so the rate is how far jiffies are from
 * 2^32 over how far boot is from 300 s, rounded to a rate the kernel can have; near 300 s that cannot be told.
 */
export function kernelClock(timerList: string): KernelClock | undefined {
  const now = /^now at (\d+) nsecs/m.exec(timerList);
  const jiffies = /^jiffies: (\d+)/m.exec(timerList);
  if (!now || !jiffies) return undefined;
  const seconds = Number(now[1]) / 1e9;
  if (Math.abs(seconds - 300) < 20) return undefined;
  const rate = (Number(jiffies[1]) - 2 ** 32) / (seconds - 300);
  const hz = TICK_RATES.find((r) => Math.abs(rate - r) / r < 0.05);
  return hz === undefined ? undefined : { jiffies: Number(jiffies[1]), hz };
}

/** explain's view of the tables: each source's hits as seconds ago (none when the clock cannot be read). */
export function recentSources(dir = RECENT_DIR, timerList = '/proc/timer_list'): Map<string, RecentSource[]> {
  let clock: KernelClock | undefined;
  try { clock = kernelClock(readFileSync(timerList, 'utf8')); } catch { clock = undefined; }
  return new Map(Object.entries(readRecentTables(dir)).map(([name, entries]) => [name, entries.map((e) => ({
    src: e.src, ...(clock ? { ages: e.hits.map((h) => (clock!.jiffies - h) / clock!.hz) } : {}),
  }))]));
}
