/** Reading what the kernel holds of ours in tests: saved iptables rulesets, and nft's listing of our table. */

/**
 * True when a saved ruleset closes `builtin` the way the iptables backends do, without touching its policy: our
 * marked jump at the top of the built-in enters our chain (INPUT -> tsfw-input), which ends in our marked DROP.
 */
export function closes(saved: string, builtin = 'INPUT'): boolean {
  const own = `tsfw-${builtin.toLowerCase()}`;
  const lines = saved.split('\n').map((l) => l.replace(/^\[\d+:\d+\] /, ''));
  const first = lines.find((l) => l.startsWith(`-A ${builtin} `));
  const last = lines.filter((l) => l.startsWith(`-A ${own} `)).pop();
  return first === `-A ${builtin} -m comment --comment "tsfw:jump" -j ${own}` || first === `-A ${builtin} -m comment --comment tsfw:jump -j ${own}`
    ? /--comment "?tsfw:policy"? -j DROP$/.test(last ?? '') : false;
}

/** One block of `nft list` text, from its `<kind> <name> {` line to its closing brace at the same indent. */
export function nftBlock(listing: string, head: string): string | undefined {
  const lines = listing.split('\n');
  const start = lines.findIndex((l) => l.trim() === `${head} {`);
  if (start < 0) return undefined;
  const indent = /^\s*/.exec(lines[start]!)![0];
  const end = lines.findIndex((l, i) => i > start && l === `${indent}}`);
  return end < 0 ? undefined : lines.slice(start, end + 1).join('\n');
}

export type NftFamily = 'ipv4' | 'ipv6';
/** The suffix of our per-family regular chains (input4, input6: docs/backends.md) and the set type of each family. */
const NFT_FAMILY: Readonly<Record<NftFamily, { readonly suffix: string; readonly setType: string; readonly other: NftFamily }>> = {
  ipv4: { suffix: '4', setType: 'ipv4_addr', other: 'ipv6' },
  ipv6: { suffix: '6', setType: 'ipv6_addr', other: 'ipv4' },
};

/** One `chain`/`set`/`ct helper` block of a table listing: its kind, name and the lines inside its braces. */
export interface NftBlock { readonly kind: string; readonly name: string; readonly lines: readonly string[] }

/**
 * `nft list table`/`nft list ruleset` text -> the blocks of `table <family> <name>` (undefined when the listing has
 * no such table). Only our table's shape is needed: one level of blocks inside the table, each closed by a line
 * holding a lone brace; an `elements = { ... }` list spanning several lines stays one line of its block.
 */
export function nftTableBlocks(listing: string, table = 'inet tsfirewall'): NftBlock[] | undefined {
  const lines = listing.split('\n');
  const start = lines.findIndex((l) => l.trim() === `table ${table} {`);
  if (start < 0) return undefined;
  const blocks: NftBlock[] = [];
  let open: { kind: string; name: string; lines: string[] } | undefined;
  for (const raw of lines.slice(start + 1)) {
    const line = raw.trim();
    if (line === '') continue;
    if (open === undefined) {
      if (line === '}') break;
      const m = /^(chain|set|map|ct helper|ct timeout|ct expectation|counter|quota|limit|flowtable) (\S+) \{$/.exec(line);
      if (!m) throw new Error(`unexpected line in table ${table}: ${line}`);
      open = { kind: m[1]!, name: m[2]!, lines: [] };
      continue;
    }
    if (line === '}') { blocks.push(open); open = undefined; continue; }
    const last = open.lines.length - 1;
    // A continued element list: the previous line ended in a comma inside `elements = {`.
    if (last >= 0 && /^elements = \{/.test(open.lines[last]!) && !/\}$/.test(open.lines[last]!)) open.lines[last] = `${open.lines[last]} ${line}`;
    else open.lines.push(line);
  }
  return blocks;
}

/** An element list in a stable order: a set the rollback re-creates hashes its elements in another order. */
const sortedElements = (line: string) => {
  const m = /^elements = \{ (.*) \}$/.exec(line);
  return m ? `elements = { ${m[1]!.split(/,\s*/).sort().join(', ')} }` : line;
};

/**
 * Our table for one family, as comparable text in nft's own layout (so nftCloses reads it too): the base chains (which dispatch to the families), that family's
 * regular chains and sets, the helpers and the chains of no family (the boot marker); elements sorted. Feed it
 * `nft -s list` output (no counters, no expires) to compare, or the full listing to read counters.
 */
export function nftFamilyView(listing: string, family: NftFamily): string {
  const blocks = nftTableBlocks(listing);
  if (blocks === undefined) return '';
  const { setType } = NFT_FAMILY[family];
  const otherSuffix = NFT_FAMILY[NFT_FAMILY[family].other].suffix;
  const keep = (b: NftBlock) => (b.kind === 'set' ? b.lines.includes(`type ${setType}`) : b.kind !== 'chain' || !b.name.endsWith(otherSuffix));
  const body = blocks.filter(keep).map((b) => `\t${b.kind} ${b.name} {\n${b.lines.map((l) => `\t\t${sortedElements(l)}\n`).join('')}\t}\n`);
  return `table inet tsfirewall {\n${body.join('')}}\n`;
}

/** The whole ruleset listing with every element list sorted (see sortedElements), for exact before/after comparisons. */
export function sortedNftListing(listing: string): string {
  const out: string[] = [];
  for (const line of listing.split('\n')) {
    const prev = out.length - 1;
    if (prev >= 0 && /^\s*elements = \{/.test(out[prev]!) && !/\}$/.test(out[prev]!)) { out[prev] = `${out[prev]} ${line.trim()}`; continue; }
    out.push(line);
  }
  return out.map((l) => l.replace(/^(\s*)(elements = \{.*\})$/, (_, indent: string, list: string) => `${indent}${sortedElements(list)}`)).join('\n');
}

/** The built-in chain names the plan uses, and our base chain for each (docs/backends.md, layout.ts HOOKS). */
const NFT_BASE: Readonly<Record<string, string>> = { INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output' };

/**
 * The nftables form of `closes`: our base chain on `builtin`'s hook (policy accept: we never close a hook for
 * anyone else) dispatches `family` to its regular chain, and that chain ends in our counted, marked drop.
 */
export function nftCloses(listing: string, builtin = 'INPUT', family: NftFamily = 'ipv4'): boolean {
  const blocks = nftTableBlocks(listing);
  const base = NFT_BASE[builtin];
  if (blocks === undefined || base === undefined) return false;
  const own = `${base}${NFT_FAMILY[family].suffix}`;
  const hook = blocks.find((b) => b.kind === 'chain' && b.name === base);
  const chain = blocks.find((b) => b.kind === 'chain' && b.name === own);
  if (!hook || !chain) return false;
  const hooked = hook.lines[0] === `type filter hook ${base} priority filter; policy accept;`;
  const vmap = /^meta nfproto vmap \{ (.*) \}$/.exec(hook.lines[1] ?? '')?.[1]?.split(', ') ?? [];
  const last = chain.lines[chain.lines.length - 1] ?? '';
  return hooked && hook.lines.length === 2 && vmap.includes(`${family} : jump ${own}`) &&
    /^counter( packets \d+ bytes \d+)? drop comment "tsfw:policy"$/.test(last);
}
