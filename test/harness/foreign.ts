/**
 * Other tools' rules (Docker, libvirt, fail2ban) as a firewall under test must leave them: load the captured
 * fixtures (test/fixtures/foreign/) into a lab namespace, and read back exactly the foreign part of what the kernel
 * holds, for byte-identical comparison before and after a tsfirewall verb. "Ours" is known by three marks only:
 * a `tsfw:<group>` comment, the nft table `inet tsfirewall`, and chain names starting `tsfw`/`TSFW` (plus the ban
 * chains `fail2ban-<NAME>`); anything else, `f2b-sshd` included, is foreign.
 */
import { readFileSync } from 'node:fs';
import type { Host } from './netns.js';

/** The captured rulesets live beside the tests, so a test and its fixtures change in one commit. */
export const FOREIGN_FIXTURES = new URL('../fixtures/foreign/', import.meta.url).pathname;

/** Spelled as the integration helpers' BackendName, the suffix of the flavour's programs. */
export type IptablesFlavour = 'nft' | 'legacy';
export type Family = 'ipv4' | 'ipv6';
/** Where rules can live: the two iptables flavours (both families each) and native nftables. */
export type ForeignBackend = 'iptables-nft' | 'iptables-legacy' | 'nftables';
/** All of them: damage done through another flavour than the one tsfirewall uses must show too. */
export const FOREIGN_BACKENDS: readonly ForeignBackend[] = ['iptables-nft', 'iptables-legacy', 'nftables'];

/** The text of one fixture file, as captured (comments and counters included). */
export const readFixture = (name: string): string => readFileSync(`${FOREIGN_FIXTURES}${name}`, 'utf8');

const OUR_CHAIN = /^(tsfw|TSFW|fail2ban-)/;
const OUR_COMMENT = /--comment "?tsfw:|comment "tsfw:/;
const OUR_NFT_TABLE = 'table inet tsfirewall {';

const iptablesTool = (flavour: IptablesFlavour, family: Family, suffix: '-save' | '-restore') =>
  `${family === 'ipv4' ? 'iptables' : 'ip6tables'}-${flavour}${suffix}`;

async function must(host: Host, argv: readonly string[], input?: string): Promise<string> {
  const r = await host.exec(argv, { timeoutMs: 30_000, ...(input === undefined ? {} : { input }) });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed in ${host.ns} (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Loads iptables-save text the way a foreign tool adds its rules: `--noflush` by default, so a second fixture
 * (fail2ban's chain) joins the first (Docker's) instead of replacing its tables.
 */
export async function loadIptables(host: Host, flavour: IptablesFlavour, family: Family, text: string, opts: { noflush?: boolean } = {}): Promise<void> {
  await must(host, [iptablesTool(flavour, family, '-restore'), '-w', '5', ...(opts.noflush === false ? [] : ['--noflush'])], text);
}

/** Loads an nft document (`nft -f -`); its tables join whatever the namespace holds. */
export async function loadNft(host: Host, text: string): Promise<void> {
  await must(host, ['nft', '-f', '-'], text);
}

function jumpsToOurs(rule: string): boolean {
  const m = /\s-[jg]\s+(\S+)/.exec(rule);
  return m !== null && OUR_CHAIN.test(m[1]!);
}

/**
 * Pure: iptables-save text minus everything of ours (chains, rules in them, rules marked tsfw:, jumps to our chains),
 * without comment lines and with counters zeroed. A table left with no rules, no chains of its own and every policy
 * ACCEPT is dropped: it filters nothing, and both flavours keep a table registered once anything named it. Tables
 * come sorted by name: iptables-legacy-save prints them in the order they were first registered, which means nothing.
 */
export function foreignIptables(save: string): string {
  const tables: string[][] = [];
  let table: string[] | undefined;
  for (const raw of save.split('\n')) {
    const line = raw.replace(/^\[\d+:\d+\] /, '').trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) { table = [line]; tables.push(table); continue; }
    if (!table) continue;
    if (line.startsWith(':')) {
      if (!OUR_CHAIN.test(line.slice(1))) table.push(line.replace(/\[\d+:\d+\]$/, '[0:0]'));
      continue;
    }
    if (/^-[AI] /.test(line) && (OUR_CHAIN.test(line.split(' ')[1] ?? '') || OUR_COMMENT.test(line) || jumpsToOurs(line))) continue;
    table.push(line);
  }
  const inert = (t: string[]) => t.every((l) => l.startsWith('*') || l === 'COMMIT' || /^:\S+ ACCEPT /.test(l));
  return tables.filter((t) => !inert(t)).map((t) => `${t.join('\n')}\n`).sort().join('');
}

interface Block { readonly head: string; readonly body: (string | Block)[]; close: string }

/** nft's listing as a tree of brace blocks (tables, chains, sets), one line per leaf. */
function parseNft(text: string): (string | Block)[] {
  const root: Block = { head: '', body: [], close: '' };
  const stack: Block[] = [root];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const depth = (line.match(/{/g)?.length ?? 0) - (line.match(/}/g)?.length ?? 0);
    const top = stack[stack.length - 1]!;
    if (depth > 0 && /^\s*(table|chain|set|map|flowtable|counter|quota|limit|ct |secmark|synproxy)/.test(line)) {
      const block: Block = { head: line, body: [], close: '' };
      top.body.push(block);
      stack.push(block);
    } else if (line.trim() === '}' && stack.length > 1) {
      top.close = line;
      stack.pop();
    } else {
      top.body.push(line);
    }
  }
  return root.body;
}

const render = (nodes: readonly (string | Block)[]): string[] =>
  nodes.flatMap((n) => (typeof n === 'string' ? [n] : [n.head, ...render(n.body), n.close]));

const blockName = (b: Block) => b.head.trim().split(/\s+/)[1] ?? '';
const isBaseChain = (b: Block) => b.head.trim().startsWith('chain ') && b.body.some((l) => typeof l === 'string' && /^\s*type \S+ hook /.test(l));
const inertTable = (b: Block) => b.body.every((n) => typeof n !== 'string' && isBaseChain(n) && n.body.every((l) => typeof l === 'string' && /^\s*type .* policy accept;$/.test(l)));

function filterTable(table: Block): Block {
  const body = table.body.flatMap((n): (string | Block)[] => {
    if (typeof n === 'string') return [n];
    if (n.head.trim().startsWith('chain ') && OUR_CHAIN.test(blockName(n))) return [];
    const rules = n.body.filter((l) => typeof l !== 'string' || !(OUR_COMMENT.test(l) || /\b(jump|goto) (tsfw|TSFW|fail2ban-)/.test(l)));
    return [{ ...n, body: rules }];
  });
  return { ...table, body };
}

/** iptables-nft's tables as nft lists them: their rules are read, with their comments, through iptables-nft-save. */
const IPTABLES_NFT_TABLE = /^table (ip|ip6) (filter|nat|mangle|raw|security) \{$/;

/**
 * Pure: `nft list ruleset` minus `table inet tsfirewall`, minus our chains and marked rules inside other tables,
 * blank lines dropped, counters zeroed, set timeouts cut, tables sorted (their order is creation order); a table
 * left holding only empty accept-policy base chains is dropped, as in foreignIptables. iptables-nft's own tables are
 * left out unless `iptablesTables`: nft 1.0.6 lists an `-m comment` as nothing, so our rules there cannot be told
 * apart (the iptables-nft-save view covers those tables).
 */
export function foreignNft(list: string, opts: { iptablesTables?: boolean } = {}): string {
  const tables = parseNft(list).flatMap((n): (string | Block)[] => {
    if (typeof n === 'string') return [n];
    if (n.head.trim() === OUR_NFT_TABLE) return [];
    if (!opts.iptablesTables && IPTABLES_NFT_TABLE.test(n.head.trim())) return [];
    const t = filterTable(n);
    return inertTable(t) ? [] : [t];
  });
  const key = (n: string | Block) => (typeof n === 'string' ? '' : n.head);
  const sorted = [...tables].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const lines = render(sorted).map((l) => l.replace(/packets \d+ bytes \d+/g, 'packets 0 bytes 0').replace(/ expires [\dhmsd.]+/g, ''));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

const VIEWS: Readonly<Record<ForeignBackend, readonly (readonly string[])[]>> = {
  'iptables-nft': [['iptables-nft-save'], ['ip6tables-nft-save']],
  'iptables-legacy': [['iptables-legacy-save'], ['ip6tables-legacy-save']],
  nftables: [['nft', 'list', 'ruleset']],
};

/**
 * The foreign part of what `host`'s namespace holds, keyed by the program that read it ("iptables-nft-save",
 * "nft list ruleset"...): every backend by default, so damage done through another flavour than the one tsfirewall
 * uses shows too. Compare two reads with toEqual.
 */
export async function foreignRules(host: Host, backends: readonly ForeignBackend[] = FOREIGN_BACKENDS): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const backend of backends) {
    for (const argv of VIEWS[backend]) {
      const text = await must(host, argv);
      out[argv.join(' ')] = backend === 'nftables' ? foreignNft(text) : foreignIptables(text);
    }
  }
  return out;
}
