/**
 * The human status view: `iptables -L -vn` counters with the seed's annotations (friends, anti-spoofing,
 * replies, services, blockers) as headings, and the hit-rate tables as the seed shows them.
 */
import type { LimiterEntry, LiveFamily } from '../backend/types.js';
import type { Group } from '../model.js';

export const GROUP_TITLES: Readonly<Record<Group, string>> = {
  loopback: 'local host', antispoof: 'anti-spoofing', friends: 'friends (trusted nets)',
  unicast: 'anti-broad/multicast', bans: 'blockers (bans)', replies: 'replies', icmp: 'icmp',
  services: 'services (with rate blockers)', dropped: 'log of what the policy drops', nat: 'source NAT',
  helpers: 'connection-tracking helpers', interfaces: 'trusted interfaces', forwards: 'port forwarding',
  routes: 'routed traffic', egress: 'what may leave', snippet: 'raw snippets (drop-in rules)', blocklist: 'network blocklists',
  policy: 'the policy (what nothing above accepted)', jump: 'into tsfirewall\'s chain',
};

export function human(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 100_000 && i < units.length - 1) { n = Math.round(n / 1000); i++; }
  return `${n}${units[i]}`;
}

/** 587 -> "9m47s", 90061 -> "1d1h1m1s": how long a ban still runs, as an admin reads it. */
export function duration(seconds: number): string {
  const parts: [number, string][] = [[Math.floor(seconds / 86_400), 'd'], [Math.floor(seconds / 3600) % 24, 'h'],
    [Math.floor(seconds / 60) % 60, 'm'], [seconds % 60, 's']];
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join('') || '0s';
}

export function formatSaved(title: string, saved: LiveFamily): string {
  const out: string[] = [`== ${title}`];
  // A plan chain can live in two chains of a table (nftables' raw hook and its helpers hook): shown once.
  const shown = new Set<string>();
  for (const chain of saved.chains) {
    if (shown.has(`${chain.table} ${chain.name}`)) continue;
    shown.add(`${chain.table} ${chain.name}`);
    const rules = saved.rules.filter((r) => r.table === chain.table && r.chain === chain.name);
    if (chain.table !== 'filter' && chain.table !== 'tsfirewall' && rules.length === 0) continue;
    const policy = chain.policy ? `policy ${chain.policy} ${human(chain.packets)} packets, ${human(chain.bytes)} bytes` : `${rules.length} rules`;
    out.push(`Chain ${chain.name}${chain.table === 'filter' ? '' : ` (table ${chain.table})`} (${policy})`);
    if (rules.length > 0) out.push(`${'pkts'.padStart(8)} ${'bytes'.padStart(8)}  rule`);
    let group: string | undefined;
    for (const rule of rules) {
      if (rule.group !== group && rule.group !== undefined) out.push(`  -- ${GROUP_TITLES[rule.group as Group] ?? rule.group}`);
      group = rule.group;
      out.push(`${human(rule.packets).padStart(8)} ${human(rule.bytes).padStart(8)}  ${rule.rule}`);
    }
    out.push('');
  }
  return out.join('\n');
}

export function formatRecent(tables: Record<string, readonly LimiterEntry[]>): string {
  const names = Object.keys(tables);
  if (names.length === 0) return '';
  const out = ['== hit-rate limiter tables'];
  for (const name of names) {
    const entries = tables[name]!;
    out.push(`${name}: ${entries.length} source${entries.length === 1 ? '' : 's'}`);
    for (const e of entries) {
      const hits = e.hits === undefined ? '' : ` hits: ${e.hits}`;
      const left = e.expiresIn === undefined ? '' : ` (${duration(e.expiresIn)} left)`;
      out.push(`  src=${e.src}${hits}${left}${e.detail ? ` ${e.detail}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
