/**
 * What tsfirewall owns in an iptables table, and the one `iptables-restore --noflush` document that turns what we
 * own now into what we want: other tools' chains and rules (Docker's, libvirt's, a foreign fail2ban) are never
 * named in it, so they stay byte-identical. We own the chains named tsfw-*, the chains they (or our rules) jump to
 * (the ban chains fail2ban-NAME), and our entries in the built-in chains: one marked jump per built-in we filter,
 * at its top. Built-in policies are left alone: our verdict is the last rule of our own chain. The only exception
 * is a table still laid out as before this model, when tsfirewall owned the whole table and its policies: moving
 * it over resets those policies to ACCEPT, in the same transaction that puts our chains in.
 */
import { MARK } from '../../model.js';
import type { SavedTable } from './parse.js';

export const OWN_PREFIX = 'tsfw-';
/** Our chain for a built-in one: INPUT -> tsfw-input (per table: nat's tsfw-postrouting, raw's tsfw-prerouting). */
export const ownChain = (builtin: string) => `${OWN_PREFIX}${builtin.toLowerCase()}`;
/** The marker of the jump from a built-in chain to ours. */
export const JUMP_GROUP = 'jump';

export interface OwnedTable {
  /** Our chains in order, each with its rule lines ("-A chain ...", "[p:b] " first when counters are kept). */
  readonly chains: readonly { readonly name: string; readonly lines: readonly string[] }[];
  /**
   * Our rules in built-in chains, in order: the jumps (or, in the old layout, the whole ruleset); `position` is the
   * rule's number in its chain where it was read.
   */
  readonly entries: readonly { readonly chain: string; readonly line: string; readonly position?: number }[];
  /** Built-in policies to set; only a rollback to the old layout sets any. */
  readonly policies: ReadonlyMap<string, string>;
}

export type Owned = ReadonlyMap<string, OwnedTable>;

const JUMP = / -[jg] (\S+)/;
const counted = (r: { packets: number; bytes: number; line: string }, counters: boolean) =>
  (counters ? `[${r.packets}:${r.bytes}] ${r.line}` : r.line);

/** Our part of one saved table (with counters, for a rollback), and whether it is still in the old layout. */
export function ownedOf(table: SavedTable, counters = false): { owned: OwnedTable; oldLayout: boolean } {
  const builtin = new Set(table.chains.filter((c) => c.policy !== undefined).map((c) => c.name));
  const user = new Set(table.chains.filter((c) => c.policy === undefined).map((c) => c.name));
  const ours = new Set([...user].filter((c) => c.startsWith(OWN_PREFIX)));
  const isEntry = (r: SavedTable['rules'][number]) =>
    builtin.has(r.chain) && (r.group !== undefined || ours.has(JUMP.exec(r.line)?.[1] ?? ''));
  // Closure: whatever our entries and our chains jump to is ours too (a ban chain), never a built-in target.
  for (let grown = true; grown;) {
    grown = false;
    for (const r of table.rules) {
      if (!(ours.has(r.chain) || isEntry(r))) continue;
      const target = JUMP.exec(r.line)?.[1];
      if (target !== undefined && user.has(target) && !ours.has(target)) { ours.add(target); grown = true; }
    }
  }
  const positions = new Map<SavedTable['rules'][number], number>();
  for (const chain of builtin) table.rules.filter((r) => r.chain === chain).forEach((r, i) => positions.set(r, i + 1));
  const entries = table.rules.filter(isEntry);
  const oldLayout = entries.some((r) => r.group !== undefined && r.group !== JUMP_GROUP);
  const chains = table.chains.filter((c) => ours.has(c.name)).map((c) => ({
    name: c.name, lines: table.rules.filter((r) => r.chain === c.name).map((r) => counted(r, counters)),
  }));
  const policies = new Map(oldLayout ? table.chains.filter((c) => c.policy !== undefined).map((c) => [c.name, c.policy!] as const) : []);
  const owned = entries.map((r) => ({ chain: r.chain, line: counted(r, counters), position: positions.get(r)! }));
  return { owned: { chains, entries: owned, policies }, oldLayout };
}

/** Everything we own in a saved document, by table; `counters` keeps each rule's counters (a rollback's target). */
export function ownedIn(tables: readonly SavedTable[], counters = false): Owned {
  return new Map(tables.map((t) => [t.name, ownedOf(t, counters).owned] as const).filter(([, o]) => o.chains.length + o.entries.length > 0));
}

const EMPTY: OwnedTable = { chains: [], entries: [], policies: new Map() };

/**
 * The --noflush document that takes `current` to `want`, table by table, in an order iptables-restore accepts:
 * policies, our chains declared (which empties an existing one), our old entries deleted, chains no longer wanted
 * emptied then deleted, the new entries inserted at the top in order, the chains filled. Empty when nothing of ours
 * is there or wanted.
 */
export function transition(current: readonly SavedTable[], want: Owned): string {
  const names = [...new Set([...current.map((t) => t.name), ...want.keys()])];
  return names.map((name) => {
    const saved = current.find((t) => t.name === name);
    const now = saved ? ownedOf(saved) : { owned: EMPTY, oldLayout: false };
    const next = want.get(name) ?? EMPTY;
    if (now.owned.chains.length + now.owned.entries.length + next.chains.length + next.entries.length === 0) return '';
    const wanted = new Set(next.chains.map((c) => c.name));
    const gone = now.owned.chains.map((c) => c.name).filter((c) => !wanted.has(c));
    // The old layout's policies were ours: opened as we take the table over, unless a rollback sets them back.
    const policies = now.oldLayout
      ? new Map([...now.owned.policies].map(([chain]) => [chain, next.policies.get(chain) ?? 'ACCEPT'] as const))
      : next.policies;
    const position = new Map<string, number>();
    const insert = (e: OwnedTable['entries'][number]) => {
      const at = (position.get(e.chain) ?? 0) + 1;
      position.set(e.chain, at);
      return e.line.replace(`-A ${e.chain} `, `-I ${e.chain} ${at} `);
    };
    return [
      `*${name}`,
      ...[...policies].map(([chain, policy]) => `:${chain} ${policy} [0:0]`),
      ...next.chains.map((c) => `:${c.name} - [0:0]`),
      ...deletions(now.owned.entries, now.oldLayout),
      ...gone.map((c) => `-F ${c}`),
      ...gone.map((c) => `-X ${c}`),
      ...next.entries.map(insert),
      ...next.chains.flatMap((c) => c.lines),
      'COMMIT',
      '',
    ].join('\n');
  }).join('');
}

/**
 * Deleting our entries from the built-ins. A jump is deleted by its spec, which is exact even if another tool
 * inserted rules since we read the table. The old layout's rules are deleted by number, last first, because the
 * kernel cannot match an xt_recent rule by its spec (its saved form differs from what it was loaded with); that
 * table was tsfirewall's alone, and this happens once.
 */
function deletions(entries: OwnedTable['entries'], oldLayout: boolean): string[] {
  if (!oldLayout) return entries.map((e) => e.line.replace(`-A ${e.chain} `, `-D ${e.chain} `));
  return [...entries].sort((a, b) => (a.chain === b.chain ? b.position! - a.position! : a.chain.localeCompare(b.chain)))
    .map((e) => `-D ${e.chain} ${e.position}`);
}

/** The ban sets our rules name (`--match-set NAME`): stop finds them in the kernel even when the config changed. */
export function setsNamed(tables: readonly SavedTable[]): string[] {
  const owned = ownedIn(tables);
  const lines = [...owned.values()].flatMap((t) => [...t.chains.flatMap((c) => c.lines), ...t.entries.map((e) => e.line)]);
  return [...new Set(lines.map((l) => /--match-set (\S+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined))];
}

/** The jump line from a built-in chain to ours, marked so it is told apart from anyone else's rules. */
export const jumpLine = (builtin: string) => `-A ${builtin} -m comment --comment ${MARK}:${JUMP_GROUP} -j ${ownChain(builtin)}`;
