/**
 * The nftables floors the goals name: one `nft -f` of the seed's ruleset (bench/peers/nft/seed.nft, written by
 * hand), one `nft -f` of a set with 10k elements, and one `nft -j list table` of the loaded seed table. What any
 * implementation on nftables pays for the kernel's side of a start, a batch of bans and a status.
 */
import { readFileSync } from 'node:fs';
import { banAddresses } from '../../test/harness/ban-addresses.js';
import type { Agent } from './ns.js';

/** A peer's config template with this namespace's facts filled in (@MYIP@, @NET@, @PREFIX@, @IFACE@). */
export function fillIn(template: string, host: { readonly ip: string }): string {
  const net = `${host.ip.split('.').slice(0, 3).join('.')}.0/24`;
  return template.replace(/@MYIP@/g, host.ip).replace(/@NET@/g, net).replace(/@PREFIX@/g, '24').replace(/@IFACE@/g, 'eth0');
}

/**
 * bench/peers/<path>, read at run time: from the repo root, which is two levels up both from bench/lib/ and from
 * the bundled .cache/bench/run.mjs.
 */
export const peerTemplate = (path: string) => readFileSync(new URL(`../../bench/peers/${path}`, import.meta.url), 'utf8');

/** The seed's ruleset as one nft document for this host. */
export const seedNft = (host: { readonly ip: string }) => fillIn(peerTemplate('nft/seed.nft'), host);

export const BAN_TABLE = 'bench_bans';
export const BAN_SET = 'bans';

/** The table and empty set a batch of bans goes into (setup, not timed). */
export const banSetNft = `table inet ${BAN_TABLE} {\n\tset ${BAN_SET} {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n}\n`;

/** One `nft -f` adding `count` elements to that set: the kernel's side of a batch of bans. */
export const banElementsNft = (count: number) =>
  `add element inet ${BAN_TABLE} ${BAN_SET} { ${banAddresses(count).join(', ')} }\n`;

/** Boot state for nftables: no table at all. */
export async function flushRuleset(agent: Agent): Promise<void> {
  await agent.must(['nft', 'flush', 'ruleset']);
}
