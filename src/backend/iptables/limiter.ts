/**
 * The kernel hit-rate limiter's tables, /proc/net/xt_recent/<NAME> (per network namespace), as the seed reads
 * them with `cat`, and cleared as the seed does with `echo clear >`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { TsfwError } from '../../errors.js';
import type { LimiterEntry } from '../types.js';

export const RECENT_DIR = '/proc/net/xt_recent';

export interface RecentEntry {
  readonly src: string;
  readonly ttl: number;
  readonly lastSeen: number;
  /** Jiffies of the remembered hits, oldest first. */
  readonly hits: readonly number[];
}

export function parseRecent(text: string): RecentEntry[] {
  return text.split('\n').filter((l) => l.startsWith('src=')).map((line) => {
    const src = /^src=(\S+)/.exec(line)?.[1] ?? '';
    const ttl = Number(/ttl: (\d+)/.exec(line)?.[1] ?? 0);
    const lastSeen = Number(/last_seen: (\d+)/.exec(line)?.[1] ?? 0);
    const hits = (/last_pkts: ([\d, ]+)/.exec(line)?.[1] ?? '').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
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
