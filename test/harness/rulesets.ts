/** Reading saved iptables rulesets in tests, the way the iptables backends lay them out. */

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

/**
 * True when an `nft list` text closes `hook` the way the nftables backend does: table inet tsfirewall's base chain
 * on that hook (policy accept: policies belong to nobody) sends IPv4 to our family chain (`input4`...), whose last
 * rule is our counted drop marked tsfw:policy.
 */
export function closesNft(listing: string, hook: 'input' | 'forward' | 'output' = 'input'): boolean {
  const table = nftBlock(listing, 'table inet tsfirewall');
  const base = table && nftBlock(table, `chain ${hook}`);
  const family = table && nftBlock(table, `chain ${hook}4`);
  if (!base || !family) return false;
  const rules = family.split('\n').slice(1, -1).map((l) => l.trim()).filter(Boolean);
  return base.includes(`type filter hook ${hook} priority filter; policy accept;`) &&
    new RegExp(`meta nfproto vmap \\{ ipv4 : jump ${hook}4\\b`).test(base) &&
    /^counter packets \d+ bytes \d+ drop comment "tsfw:policy"$/.test(rules.at(-1) ?? '');
}
