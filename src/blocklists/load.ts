/**
 * Fills the blocklist sets: each list's text (a local file, or the last good download of a URL, kept in the state
 * directory) is parsed, every network the ban guard refuses (the admin's live session, this host, loopback, a
 * remembered admin address) is left out as a refused line, and all sets are replaced at once through the backend
 * (`ipset swap`, one nft transaction). `start` loads what is there; `blocklist refresh` downloads first, and keeps
 * the previous copy when a download fails or yields no network at all (an error page served as 200 must not
 * empty the list).
 */
import type { FirewallBackend } from '../backend/types.js';
import { blocklistFamilies, blocklistSetName, blocklistSets } from '../compile/blocklists.js';
import { readTrustedText } from '../config/file.js';
import type { BlocklistConfig, Config } from '../config/types.js';
import type { IpsetSpec } from '../model.js';
import { banGuardFacts } from '../safety/ban-facts.js';
import { netGuard } from '../safety/net-guard.js';
import { stateDir } from '../state/dirs.js';
import { readStateFile, writeStateFile } from '../state/write.js';
import { fetchList } from './fetch.js';
import { parseBlocklist, type ParsedList } from './parse.js';

export interface ListOutcome {
  readonly name: string;
  /** The file, or the URL, the networks came from. */
  readonly source: string;
  /** Networks loaded per family; undefined when the list was not loaded (nothing downloaded yet, unreadable). */
  readonly loaded?: { readonly ipv4: number; readonly ipv6: number };
  readonly refused: number;
  /** What went wrong or was left out, each a line for the log. */
  readonly notes: readonly string[];
}

/** Refused lines named one by one, up to this many per list. */
const NAMED = 5;

export const cacheName = (name: string) => `blocklist-${name}.list`;

interface ListText { readonly text?: string; readonly where: string; readonly notes: string[]; readonly fetched: boolean }

async function textOf(list: BlocklistConfig, config: Config, fetch: boolean): Promise<ListText> {
  const limits = config.blocklistLimits;
  if (list.file) {
    try {
      return { text: readTrustedText(list.file, { what: 'blocklist', maxBytes: limits.fetchMaxBytes })!, where: list.file, notes: [], fetched: false };
    } catch (err) {
      return { where: list.file, notes: [`${(err as Error).message}; the list is as it was`], fetched: false };
    }
  }
  const url = list.url!;
  const cached = () => readStateFile(stateDir(), cacheName(list.name));
  if (!fetch) {
    const text = cached();
    return { ...(text === undefined ? {} : { text }), where: url, fetched: false,
      notes: text === undefined ? ['not downloaded yet: "tsfirewall blocklist refresh" fetches it (the timer does so on its own)'] : [] };
  }
  try {
    return { text: await fetchList(url, { timeoutSeconds: limits.fetchTimeout, maxBytes: limits.fetchMaxBytes }), where: url, notes: [], fetched: true };
  } catch (err) {
    const text = cached();
    return { ...(text === undefined ? {} : { text }), where: url, fetched: false,
      notes: [`fetching ${url} failed (${(err as Error).message}); ${text === undefined ? 'nothing to load yet' : 'the last good copy stays'}`] };
  }
}

function refusedNotes(where: string, parsed: ParsedList): string[] {
  const named = parsed.refused.slice(0, NAMED).map((r) => `${where}:${r.line}: refused ${JSON.stringify(r.text)}: ${r.reason}`);
  const more = parsed.refused.length > NAMED ? [`${where}: and ${parsed.refused.length - NAMED} more refused lines`] : [];
  const over = parsed.overLimit > 0 ? [`${where}: ${parsed.overLimit} networks past BLOCKLIST_MAX_ENTRIES left out`] : [];
  return [...named, ...more, ...over];
}

/**
 * Loads every configured list (or those named) into its sets; `fetch` downloads the URL lists first. Resolves to
 * what each list came to; throws only when the backend refuses the sets (the lists are then as they were).
 */
export async function loadBlocklists(backend: FirewallBackend, config: Config, opts: { readonly fetch: boolean; readonly names?: readonly string[] }): Promise<ListOutcome[]> {
  const lists = config.blocklists.filter((l) => !opts.names || opts.names.includes(l.name));
  if (lists.length === 0) return [];
  const guard = netGuard(await banGuardFacts(config), { trusted: false });
  const families = blocklistFamilies(config);
  const specs = new Map(blocklistSets(config).map((s) => [s.name, s] as const));
  const replace: { spec: IpsetSpec; entries: readonly string[] }[] = [];
  const outcomes: ListOutcome[] = [];
  const toCache: [string, string][] = [];
  for (const list of lists) {
    const got = await textOf(list, config, opts.fetch);
    const label = (o: Omit<ListOutcome, 'name' | 'source'>) => outcomes.push({ name: list.name, source: got.where, ...o });
    if (got.text === undefined) { label({ refused: 0, notes: got.notes }); continue; }
    const parsed = parseBlocklist(got.text, config.blocklistLimits.maxEntries, (net, key) => guard(net, key)?.reason);
    const notes = [...got.notes, ...refusedNotes(got.where, parsed)];
    if (got.fetched && parsed.ipv4.length + parsed.ipv6.length === 0 && parsed.refused.length > 0) {
      label({ refused: parsed.refused.length, notes: [...notes, `${got.where}: not one network in the download; the last good copy stays`] });
      continue;
    }
    if (!families.includes('ipv6') && parsed.ipv6.length > 0) notes.push(`${parsed.ipv6.length} IPv6 networks left out: IPV6 is not "mirror"`);
    for (const family of families) {
      replace.push({ spec: specs.get(blocklistSetName(list.name, family))!, entries: family === 'ipv4' ? parsed.ipv4 : parsed.ipv6 });
    }
    if (got.fetched) toCache.push([cacheName(list.name), got.text]);
    label({ loaded: { ipv4: parsed.ipv4.length, ipv6: families.includes('ipv6') ? parsed.ipv6.length : 0 }, refused: parsed.refused.length, notes });
  }
  await backend.replaceSets(replace);
  // Kept only once loaded: the copy a later start (or a failed fetch) falls back on is one the kernel took.
  for (const [name, text] of toCache) writeStateFile(stateDir(), name, text);
  return outcomes;
}

/** One line per list, for start's and refresh's output. */
export function describeOutcome(o: ListOutcome): string {
  if (!o.loaded) return `blocklist ${o.name}: not loaded (${o.source})`;
  const v6 = o.loaded.ipv6 > 0 ? ` and ${o.loaded.ipv6} IPv6` : '';
  return `blocklist ${o.name}: ${o.loaded.ipv4} IPv4${v6} networks from ${o.source}${o.refused > 0 ? `, ${o.refused} lines refused` : ''}`;
}
