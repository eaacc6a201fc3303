/**
 * diff's report: every difference between what is loaded and what a reload would load, chain by chain and within
 * a chain by the talk's groups (the tsfw:<group> markers), each with the changes that cause it; as JSON for
 * scripts and as lines for people, coloured only for a terminal that has not asked for none (NO_COLOR). Pure.
 */
import type { Group } from '../model.js';
import { GROUP_TITLES } from '../status/format.js';
import type { RuleChange } from './plan-diff.js';

export interface DiffEntry {
  readonly family: RuleChange['family'];
  readonly table: RuleChange['table'];
  readonly chain: string;
  readonly group: string;
  readonly change: RuleChange['kind'];
  /** The rule as loaded and as a reload would load it, in the backend's lines (as `show` prints them). */
  readonly before: readonly string[] | null;
  readonly after: readonly string[] | null;
  readonly causes: readonly string[];
}

export interface DiffReport {
  readonly same: boolean;
  /** The backend a reload loads through, and the one holding the rules now. */
  readonly backend: string;
  readonly loadedBy: string;
  readonly changes: readonly DiffEntry[];
  /** How the kernel differs from what was loaded (changed from outside): a reload puts it back too. */
  readonly notAsLoaded: readonly string[];
  /** Every change since the load that some difference comes from. */
  readonly causes: readonly string[];
  /** Changes since the load that change no rule (a jail's ban time, the modules...). */
  readonly otherChanges: readonly string[];
  /** What could not be compared, in words. */
  readonly notes: readonly string[];
}

/** Whether to colour: a terminal, and no NO_COLOR (https://no-color.org: set and not empty). */
export const wantsColour = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv) => stream.isTTY === true && !env.NO_COLOR;

const ANSI = { red: '31', green: '32', yellow: '33', bold: '1' } as const;
type Paint = (colour: keyof typeof ANSI, text: string) => string;

const MARKS: Readonly<Record<DiffEntry['change'], { sign: string; colour: keyof typeof ANSI }>> = {
  added: { sign: '+', colour: 'green' }, removed: { sign: '-', colour: 'red' }, changed: { sign: '~', colour: 'yellow' },
};
const FAMILY = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;

function entryLines(e: DiffEntry, paint: Paint): string[] {
  const { sign, colour } = MARKS[e.change];
  const why = e.causes.length > 0 ? `  (${e.causes.join('; ')})` : '';
  return [
    `  ${paint(colour, `${sign} ${e.change}`)}${why}`,
    ...(e.before ?? []).map((l) => `      ${paint('red', `- ${l.trim()}`)}`),
    ...(e.after ?? []).map((l) => `      ${paint('green', `+ ${l.trim()}`)}`),
  ];
}

export function formatDiff(r: DiffReport, colour: boolean): string {
  const paint: Paint = colour ? (c, text) => `\x1b[${ANSI[c]}m${text}\x1b[0m` : (_c, text) => text;
  const n = r.changes.length + r.notAsLoaded.length;
  const moved = r.loadedBy === r.backend ? '' : `; the rules are held by ${r.loadedBy}, a reload moves them to ${r.backend}`;
  const lines = [r.same
    ? `tsfirewall diff: the loaded rules are what a reload would load (${r.backend})`
    : `tsfirewall diff: ${n} difference${n === 1 ? '' : 's'} between the loaded rules and what a reload would load (${r.backend})${moved}`];
  for (const note of r.notes) lines.push(`note: ${note}`);
  if (r.causes.length > 0) lines.push('caused by:', ...r.causes.map((c) => `  ${c}`));
  if (r.otherChanges.length > 0) lines.push('changed, but no rule differs:', ...r.otherChanges.map((c) => `  ${c}`));
  if (r.notAsLoaded.length > 0) {
    lines.push(paint('bold', 'not as loaded (changed from outside; a reload puts it back):'), ...r.notAsLoaded.map((p) => `  ${p}`));
  }
  // Chain by chain, and within a chain group by group in the order the groups first come: the talk's order.
  const byPlace = new Map<string, Map<string, DiffEntry[]>>();
  for (const e of r.changes) {
    const place = `${FAMILY[e.family]} ${e.table} ${e.chain}`;
    const groups = byPlace.get(place) ?? new Map<string, DiffEntry[]>();
    byPlace.set(place, groups.set(e.group, [...(groups.get(e.group) ?? []), e]));
  }
  for (const [place, groups] of byPlace) {
    lines.push(paint('bold', `== ${place}`));
    for (const [group, entries] of groups) {
      lines.push(`-- ${GROUP_TITLES[group as Group] ?? group} (tsfw:${group})`, ...entries.flatMap((e) => entryLines(e, paint)));
    }
  }
  return `${lines.join('\n')}\n`;
}
