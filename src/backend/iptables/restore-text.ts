/**
 * Pure text surgery on iptables-save / iptables-restore documents: carrying the ban daemon's entries into a new
 * ruleset, and adding "open" blocks so a table we stop using (nat after SNAT is removed) does not keep stale rules.
 */
/** The tables tsfirewall may fill (raw holds the FTP helper's CT rule) and their built-in chains. */
export const MANAGED_TABLES: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

export function tablesIn(text: string): string[] {
  return [...text.matchAll(/^\*(\w+)$/gm)].map((m) => m[1]!);
}

/** A table with every built-in chain open and no rules: the seed's `stop` for that table. */
export function openTable(table: string): string {
  const chains = MANAGED_TABLES[table] ?? [];
  return [`*${table}`, ...chains.map((c) => `:${c} ACCEPT [0:0]`), 'COMMIT', ''].join('\n');
}

/** The rules of the given filter-table chains in a saved document, counters stripped. */
export function chainEntries(saved: string, chains: readonly string[]): string[] {
  const wanted = new Set(chains);
  const entries: string[] = [];
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    const rule = line.replace(/^\[\d+:\d+\]\s+/, '');
    const chain = /^-A (\S+) /.exec(rule)?.[1];
    if (table === 'filter' && chain !== undefined && wanted.has(chain)) entries.push(rule);
  }
  return entries;
}

/** Adds lines at the end of the filter table (before its COMMIT). */
export function appendToFilter(text: string, lines: readonly string[]): string {
  if (lines.length === 0) return text;
  const start = text.indexOf('*filter\n');
  const commit = text.indexOf('\nCOMMIT\n', start);
  if (start < 0 || commit < 0) return text;
  return `${text.slice(0, commit)}\n${lines.join('\n')}${text.slice(commit)}`;
}

/**
 * New ruleset text, completed so that loading it replaces what `previous` holds in every table we manage:
 * tables we used to fill but no longer mention get an open block instead of being left as they were.
 */
export function completeAgainst(text: string, previous: string): string {
  const ours = new Set(tablesIn(text));
  const stale = tablesIn(previous).filter((t) => t in MANAGED_TABLES && !ours.has(t));
  return text + stale.map(openTable).join('');
}

/** True when a saved document holds rules we wrote. */
export function holdsOurRules(saved: string, mark: string): boolean {
  return saved.includes(`--comment ${mark}:`) || saved.includes(`--comment "${mark}:`);
}
