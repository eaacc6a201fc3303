/** Shared inputs for the pure-part tests: the seed's host (one address on eth0) as discovery would report it. */
import { parseConfig, parseSources } from '../../src/config/load.js';
import type { SnippetExtension, SnippetPoint } from '../../src/config/dropins.js';
import type { Config } from '../../src/config/types.js';
import type { HostFacts } from '../../src/discover/host.js';

export const SEED_HOST = { iface: 'eth0', myip: '192.0.2.10', prefix: 24, myip6: ['2001:db8::10'], warnings: [] } satisfies HostFacts;

/** Parses config text and settles BAN_MODE the way the CLI does on a host with ipset installed. */
export function config(text = '', banMode: 'ipset' | 'chain' = 'ipset'): Config {
  const c = parseConfig(text).config;
  return { ...c, banMode: c.banMode === 'auto' ? banMode : c.banMode };
}

/**
 * A config with raw snippets as a drop-in directory would give them (`NAME.POINT.EXT` -> text), settled for a
 * backend's language the way the CLI settles it.
 */
export function configWithSnippets(text: string, snippets: Readonly<Record<string, string>>, syntax: 'nft' | 'iptables'): Config {
  const files = Object.entries(snippets).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, body]) => {
    const [, point, extension] = /\.(\w+)\.(\w+)$/.exec(name)!;
    return { path: `/etc/tsfirewall.d/${name}`, name, text: body, point: point as SnippetPoint, extension: extension as SnippetExtension };
  });
  const c = parseSources([{ path: '/etc/default/tsfirewall', text }], files, '/etc/default/tsfirewall').config;
  return { ...c, banMode: 'ipset', snippetSyntax: syntax };
}

/** Snippets at every point, in both languages: the golden files' "snippets" case. */
export const SNIPPETS = {
  '10-web.before.nft': 'chain input {\n\ttcp dport 8080 accept\n}\nchain output {\n\tip daddr 198.51.100.99 counter reject\n}\n',
  '20-mdns.after.nft': '# mDNS from the LAN\nchain input {\n\tip saddr 192.0.2.0/24 udp dport 5353 accept\n}\n',
  '30-redirect.nat.nft': 'chain prerouting {\n\ttcp dport 8081 redirect to :80\n}\n',
  '40-notrack.raw.nft': 'chain prerouting {\n\tudp dport 53 notrack\n}\n',
  '10-web.before.rules': '-A INPUT -p tcp --dport 8080 -j ACCEPT\n-A OUTPUT -d 198.51.100.99 -j REJECT\n',
  '20-mdns.after.rules': '# mDNS from the LAN\n-A INPUT -s 192.0.2.0/24 -p udp --dport 5353 -j ACCEPT\n',
  '30-redirect.nat.rules': '-A PREROUTING -p tcp --dport 8081 -j REDIRECT --to-ports 80\n',
  '40-notrack.raw.rules': '-A PREROUTING -p udp --dport 53 -j NOTRACK\n',
  '10-web.before.rules6': '-A INPUT -p tcp --dport 8080 -j ACCEPT\n',
} as const;

/** ipset v7.17's `list -t`, verbatim apart from the initval: one set of ours, one from an older build. */
export const IPSET_LISTING = [
  'Name: f2b-SSH',
  'Type: hash:ip',
  'Revision: 6',
  'Header: family inet hashsize 4096 maxelem 262144 timeout 0 bucketsize 12 initval 0x1',
  'Size in memory: 200',
  'References: 1',
  'Number of entries: 3',
  '',
  'Name: f2b-old',
  'Type: hash:ip',
  'Revision: 6',
  'Header: family inet hashsize 1024 maxelem 1024 bucketsize 12 initval 0x2',
  'Size in memory: 256',
  'References: 0',
  'Number of entries: 1',
  '',
].join('\n');
