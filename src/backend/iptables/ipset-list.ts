/**
 * Every ipset's header from one `ipset list -t`, which prints no members however many bans the sets hold: which
 * sets this host's kernel holds, with what settings and how many entries. start reads it beside its snapshot
 * (apply/ipset-headers.ts decides from it what to create or rebuild), check reads it before testing, and status
 * reads the ban counts from it (bans/counts.ts).
 */
import { run } from '../../exec/run.js';
import { which } from '../../exec/which.js';

export interface SetHeader {
  readonly type: string;
  /** The words of the `Header:` line ("family inet hashsize 4096 maxelem 262144 timeout 0 ..."). */
  readonly settings: readonly string[];
  /** Absent when the ipset version prints no count. */
  readonly entries?: number;
}

export type SetHeaders = ReadonlyMap<string, SetHeader>;

/** `ipset list -t` text to one header per set name; blocks are separated by their `Name:` lines. */
export function parseSetHeaders(listing: string): Map<string, SetHeader> {
  const sets = new Map<string, SetHeader>();
  for (const block of listing.split(/\n(?=Name: )/)) {
    const field = (key: string) => new RegExp(`^${key}: *(.*)$`, 'm').exec(block)?.[1]?.trim();
    const name = field('Name');
    if (!name) continue;
    const entries = field('Number of entries');
    sets.set(name, {
      type: field('Type') ?? '',
      settings: (field('Header') ?? '').split(/\s+/).filter(Boolean),
      ...(entries !== undefined && /^\d+$/.test(entries) ? { entries: Number(entries) } : {}),
    });
  }
  return sets;
}

/**
 * One `ipset list -t`. An empty map without the ipset program (then no set exists either); undefined when the
 * listing failed, so nothing is known and callers fall back to what holds without knowing.
 */
export async function readSetHeaders(): Promise<SetHeaders | undefined> {
  const ipset = which('ipset');
  if (!ipset) return new Map();
  const result = await run(ipset, ['list', '-t']);
  return result.exitCode === 0 ? parseSetHeaders(result.stdout) : undefined;
}
