/**
 * The one parser of `iptables-save [-c]` text: tables with their chains (policy, counters) and rules in order, each
 * rule kept as the line iptables-save printed, so it can be fed back to iptables-restore (`-D` to delete it,
 * `[p:b] -A` to put it back with its counters). status's view (LiveFamily) and the ownership model both read this.
 */
import { BOOT_CHAIN, MARKER_TEXT, type MarkerRole } from '../../model.js';
import type { LiveFamily } from '../types.js';

export interface SavedChain { readonly name: string; readonly policy?: string; readonly packets: number; readonly bytes: number }

export interface SavedRule {
  readonly chain: string;
  /** "-A CHAIN ..." as saved, without the counters. */
  readonly line: string;
  readonly packets: number;
  readonly bytes: number;
  /** Our tsfw:<group> marker; absent for rules someone else wrote. */
  readonly group?: string;
  /** The service and role the marker names (model.ts markerOf), where it does. */
  readonly service?: string;
  readonly role?: MarkerRole;
}

export interface SavedTable { readonly name: string; readonly chains: readonly SavedChain[]; readonly rules: readonly SavedRule[] }

const MARKER = new RegExp(`--comment "?${MARKER_TEXT}"?(?: |$)`);

export function readSaved(text: string): SavedTable[] {
  const tables: { name: string; chains: SavedChain[]; rules: SavedRule[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('*')) { tables.push({ name: line.slice(1).trim(), chains: [], rules: [] }); continue; }
    const table = tables[tables.length - 1];
    if (!table) continue;
    const chain = /^:(\S+) (\S+) \[(\d+):(\d+)\]/.exec(line);
    if (chain) {
      table.chains.push({ name: chain[1]!, ...(chain[2] === '-' ? {} : { policy: chain[2] }), packets: Number(chain[3]), bytes: Number(chain[4]) });
      continue;
    }
    const rule = /^(?:\[(\d+):(\d+)\] )?(-A (\S+) .*)$/.exec(line);
    if (!rule) continue;
    const m = MARKER.exec(rule[3]!);
    const marker = m ? { group: m[1]!, ...(m[2] ? { service: m[2] } : {}), ...(m[3] ? { role: m[3] as MarkerRole } : {}) } : {};
    table.rules.push({ chain: rule[4]!, line: rule[3]!, packets: Number(rule[1] ?? 0), bytes: Number(rule[2] ?? 0), ...marker });
  }
  return tables;
}

/** The tables a saved or restore document names, in order. */
export const tableNames = (text: string): string[] => readSaved(text).map((t) => t.name);

/** status's view of one family: every chain and rule, the rule text without the "-A CHAIN" and our marker. */
export function parseSave(text: string): LiveFamily {
  const tables = readSaved(text);
  return {
    chains: tables.flatMap((t) => t.chains.map((c) => ({ table: t.name, ...c }))),
    rules: tables.flatMap((t) => t.rules.map((r) => ({
      table: t.name, chain: r.chain, packets: r.packets, bytes: r.bytes, ...(r.group ? { group: r.group } : {}),
      ...(r.service ? { service: r.service } : {}), ...(r.role ? { role: r.role } : {}),
      // A rule of ours with no match of its own (a jump into a chain of ours) starts with its marker.
      rule: r.line.replace(/^-A \S+ /, '').replace(/ -m comment --comment "?[^" ]+"?/, '').replace(/^-m comment --comment "?tsfw:[^" ]+"? /, ''),
    }))),
  };
}

export const isLoaded = (saved: LiveFamily) => saved.rules.some((r) => r.group !== undefined);

/** Only the boot-time ruleset is loaded (`start --early`): the address-bound rules are still to come. */
export const isBootRuleset = (saved: LiveFamily) => isLoaded(saved) && saved.chains.some((c) => c.table === 'filter' && c.name === BOOT_CHAIN);
