/**
 * Parses `iptables-save -c` into chains and rules with counters: the data behind `status --json` and the
 * "is our ruleset loaded" test.
 */
import { BOOT_CHAIN, MARK } from '../../model.js';
import type { LiveChain, LiveFamily, LiveRule } from '../types.js';

export function parseSave(text: string): LiveFamily {
  const chains: LiveChain[] = [];
  const rules: LiveRule[] = [];
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) { table = line.slice(1).trim(); continue; }
    const chain = /^:(\S+) (\S+) \[(\d+):(\d+)\]/.exec(line);
    if (chain) {
      chains.push({ table, name: chain[1]!, policy: chain[2] === '-' ? undefined : chain[2], packets: Number(chain[3]), bytes: Number(chain[4]) });
      continue;
    }
    const rule = /^(?:\[(\d+):(\d+)\] )?-A (\S+) (.*)$/.exec(line);
    if (!rule) continue;
    const group = new RegExp(`--comment "?${MARK}:(\\w+)"?`).exec(rule[4]!)?.[1];
    const text = rule[4]!.replace(/ -m comment --comment "?[^" ]+"?/, '');
    rules.push({ table, chain: rule[3]!, packets: Number(rule[1] ?? 0), bytes: Number(rule[2] ?? 0), group, rule: text });
  }
  return { chains, rules };
}

export const isLoaded = (saved: LiveFamily) => saved.rules.some((r) => r.group !== undefined);

/** Only the boot-time ruleset is loaded (`start --early`): the address-bound rules are still to come. */
export const isBootRuleset = (saved: LiveFamily) => isLoaded(saved) && saved.chains.some((c) => c.table === 'filter' && c.name === BOOT_CHAIN);
