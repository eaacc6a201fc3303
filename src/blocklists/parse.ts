/**
 * A blocklist's text -> the networks it names, per family. One reading covers the formats lists come in: Spamhaus
 * DROP (`1.2.3.0/24 ; SBL123`), FireHOL (`#` comments, bare addresses and CIDRs) and plain lists (one a line);
 * whatever follows `;` or `#` on a line is a comment. Each address is read as every address in tsfirewall is
 * (net/addr.ts: strict dotted quads, IPv6 without zones). A line that is none of these is refused and reported
 * with its line number, and the rest of the list still loads: one bad line in a list of thousands must not leave
 * the host without any of it.
 */
import { parseNetwork, type Network } from '../net/addr.js';

export interface RefusedLine { readonly line: number; readonly text: string; readonly reason: string }

export interface ParsedList {
  /** Networks as `ADDRESS/PREFIX` text (host bits cleared), each once, in the order first seen. */
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly refused: readonly RefusedLine[];
  /** Networks past the entry limit, left out (not counted as refused lines). */
  readonly overLimit: number;
}

/** Why a network must not go into a blocklist, or undefined; the ban guard's facts answer it (safety/net-guard.ts). */
export type EntryCheck = (net: Network, text: string) => string | undefined;

export function parseBlocklist(text: string, maxEntries: number, check: EntryCheck = () => undefined): ParsedList {
  const seen = new Set<string>();
  const out: Record<'ipv4' | 'ipv6', string[]> = { ipv4: [], ipv6: [] };
  const refused: RefusedLine[] = [];
  let overLimit = 0;
  text.split('\n').forEach((raw, index) => {
    const content = raw.replace(/[;#][\s\S]*$/, '').trim();
    if (content === '') return;
    const refuse = (reason: string) => refused.push({ line: index + 1, text: raw.trim().slice(0, 100), reason });
    if (/\s/.test(content)) return refuse('one address or network a line (a comment starts with ; or #)');
    const net = parseNetwork(content);
    if (!net) return refuse('not an address or network');
    if (net.prefix === 0) return refuse('a /0 would block every address');
    const key = `${net.network}/${net.prefix}`;
    const why = check(net, key);
    if (why) return refuse(why);
    if (seen.has(key)) return undefined;
    if (seen.size >= maxEntries) { overLimit++; return undefined; }
    seen.add(key);
    return out[net.family].push(key);
  });
  return { ipv4: out.ipv4, ipv6: out.ipv6, refused, overLimit };
}
