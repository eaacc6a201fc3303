/**
 * Plan -> one `nft -f` document for `table inet tsfirewall`, loaded as one kernel transaction. The document
 * re-declares the table, sets and chains (which keeps ban and limiter set elements and leaves a base chain in its
 * hook), flushes every chain and fills it again, so a reload never opens a window and never forgets a ban.
 * It works on a namespace with no table of ours too: nothing is flushed or deleted before it is declared.
 */
import { BOOT_CHAIN, type Family, type Plan, type Rule, type Ruleset, type Table } from '../../model.js';
import { HOOKS, LIMITER_SETS, POLICY_GROUP, SUFFIX, TABLE_REF, familyChain, takes, type Hook } from './layout.js';
import { ident, quoted, renderRule, type HelperDecl, type RuleContext, type SetDecl } from './rules.js';

/** What the kernel's table of ours holds (parse.ts reads it from `nft -j`), for the parts a reload must remove. */
export interface Holdings {
  readonly chains: readonly { readonly name: string; readonly base?: { readonly type: string; readonly hook: string; readonly prio: number; readonly policy: string } }[];
  readonly sets: readonly { readonly name: string; readonly type: string; readonly flags: readonly string[] }[];
  readonly helpers: readonly { readonly name: string; readonly type: string; readonly protocol: string }[];
}

/** One chain of our table as the plan lays it out: a base chain has its hook, `lines` are its rules in order. */
export interface ChainDecl { readonly name: string; readonly hook?: Hook; readonly lines: readonly string[] }
/** Everything the plan puts in our table: render writes it, intact() holds the live table against it. */
export interface Layout { readonly chains: readonly ChainDecl[]; readonly sets: readonly SetDecl[]; readonly helpers: readonly HelperDecl[] }

const FAMILY_ORDER: readonly Family[] = ['ipv4', 'ipv6'];
const byFamily = (plan: Pick<Plan, 'rulesets'>) => FAMILY_ORDER.map((f) => plan.rulesets.find((r) => r.family === f)).filter((r): r is Ruleset => r !== undefined);
const tableOf = (ruleset: Ruleset, name: string): Table | undefined => ruleset.tables.find((t) => t.name === name);
const uniqueBy = <T extends { name: string }>(items: readonly T[]) => [...new Map(items.map((i) => [i.name, i] as const)).values()];

/**
 * The plan laid out as our table's pieces: a base chain per hook the plan uses, dispatching each family the plan
 * has to its regular chain, which ends in the policy rule; the filter hooks are always there (status shows them).
 * intact() compares the live table with it.
 */
export function layoutOf(plan: Pick<Plan, 'rulesets' | 'ipsets' | 'banChains'>): Layout {
  const banChains = new Set(plan.banChains);
  const ipsets = new Map(plan.ipsets.map((s) => [s.name, s] as const));
  const chains: ChainDecl[] = [];
  const sets: SetDecl[] = [];
  const helpers: HelperDecl[] = [];
  const rendered = (rules: readonly Rule[], ctx: RuleContext) => rules.flatMap((rule) => {
    const r = renderRule(rule, ctx);
    sets.push(...r.sets);
    helpers.push(...r.helpers);
    return r.lines;
  });
  for (const hook of HOOKS) {
    const users = byFamily(plan).map((rs) => ({ rs, table: tableOf(rs, hook.table) }))
      .map(({ rs, table }) => ({ family: rs.family, table, chain: table?.chains.find((c) => c.name === hook.chain) }))
      .filter((u) => u.chain !== undefined && (hook.table === 'filter' || u.table!.rules.some((r) => takes(hook, r))));
    if (users.length === 0) continue;
    const chainOf = (family: Family) => `${hook.base}${SUFFIX[family]}`;
    const dispatch = users.map((u) => `${u.family} : jump ${chainOf(u.family)}`).join(', ');
    chains.push({ name: hook.base, hook, lines: [`meta nfproto vmap { ${dispatch} }`] });
    for (const u of users) {
      const ctx: RuleContext = { family: u.family, table: hook.table, banChains, ipsets };
      const body = rendered(u.table!.rules.filter((r) => takes(hook, r)), ctx);
      const verdict = u.chain!.policy === 'DROP' ? 'drop' : 'accept';
      chains.push({ name: chainOf(u.family), lines: [...body, `counter ${verdict} comment ${quoted(`tsfw:${POLICY_GROUP}`)}`] });
    }
  }
  for (const rs of byFamily(plan)) {
    for (const table of rs.tables) {
      for (const chain of table.chains.filter((c) => c.policy === undefined && !banChains.has(c.name))) {
        // The boot marker is one chain for the whole table: its presence, not its content, is the message.
        if (chain.name === BOOT_CHAIN) { chains.push({ name: BOOT_CHAIN, lines: [] }); continue; }
        const ctx: RuleContext = { family: rs.family, table: table.name, banChains, ipsets };
        chains.push({ name: familyChain(table.name, chain.name, rs.family), lines: rendered(table.rules.filter((r) => r.chain === chain.name), ctx) });
      }
    }
  }
  const declared = plan.ipsets.map((s): SetDecl => ({
    name: s.name, type: s.family === 'inet' ? 'ipv4_addr' : 'ipv6_addr', flags: s.type === 'hash:net' ? ['interval', 'timeout'] : ['timeout'], size: s.maxelem,
  }));
  return { chains: uniqueBy(chains), sets: uniqueBy([...sets, ...declared]), helpers: uniqueBy(helpers) };
}

/** An interval set merges what overlaps (a blocklist's networks) instead of refusing the whole document. */
const setText = (s: SetDecl) =>
  `\tset ${ident(s.name)} {\n\t\ttype ${s.type}; size ${s.size}; flags ${s.flags.join(',')};${s.flags.includes('interval') ? ' auto-merge;' : ''}${s.timeout === undefined ? '' : ` timeout ${s.timeout}s;`}\n\t}`;
const helperText = (h: { name: string; type?: string; helper?: string; protocol: string }) =>
  `\tct helper ${ident(h.name)} {\n\t\ttype ${quoted(h.type ?? h.helper!)} protocol ${h.protocol};\n\t}`;
const baseSpec = (b: { type: string; hook: string; priority: string | number; policy: string }) =>
  `type ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy};`;
const chainDeclText = (c: ChainDecl) =>
  `\tchain ${ident(c.name)} {${c.hook ? `\n\t\t${baseSpec({ ...c.hook, policy: 'accept' })}` : ''}\n\t}`;
const block = (items: readonly string[]) => `table ${TABLE_REF} {\n${items.join('\n')}\n}\n`;
const flush = (name: string) => `flush chain ${TABLE_REF} ${ident(name)}\n`;

/** Whether a held chain can stay as the plan declares it: the kernel refuses to move a chain to another hook. */
const sameChain = (held: Holdings['chains'][number], want: ChainDecl) =>
  held.base === undefined ? want.hook === undefined
    : want.hook !== undefined && held.base.type === want.hook.type && held.base.hook === want.hook.hook && held.base.prio === want.hook.prio;

/** `nft -j` leaves out a set's "dynamic" flag; ours are dynamic exactly when they are limiter sets. */
const LIMITER_PREFIXES = Object.values(LIMITER_SETS).flatMap((byFamily) => Object.values(byFamily));
const heldFlags = (s: Holdings['sets'][number]) =>
  LIMITER_PREFIXES.some((p) => s.name.startsWith(p)) ? ['dynamic', ...s.flags.filter((f) => f !== 'dynamic')] : s.flags;
const sameSet = (held: Holdings['sets'][number], want: SetDecl) =>
  held.type === want.type && [...heldFlags(held)].sort().join() === [...want.flags].sort().join();

/**
 * What goes before the plan's declarations when the table already holds something: every held chain is declared
 * as it is and flushed (so deletes find nothing referring to them), then what the plan no longer has, or has in a
 * form the kernel cannot change in place (another hook, set type or flags), is deleted. Declaring first keeps the
 * document valid in an empty namespace too, where `nft -c` may check it.
 */
function prelude(layout: Layout, held: Holdings): string {
  const wantChain = new Map(layout.chains.map((c) => [c.name, c] as const));
  const wantSet = new Map(layout.sets.map((s) => [s.name, s] as const));
  const wantHelper = new Map(layout.helpers.map((h) => [h.name, h] as const));
  const chainsGone = held.chains.filter((c) => !wantChain.has(c.name) || !sameChain(c, wantChain.get(c.name)!));
  const setsGone = held.sets.filter((s) => !wantSet.has(s.name) || !sameSet(s, wantSet.get(s.name)!));
  const helpersGone = held.helpers.filter((h) => { const w = wantHelper.get(h.name); return !w || w.helper !== h.type || w.protocol !== h.protocol; });
  if (held.chains.length === 0 && setsGone.length === 0 && helpersGone.length === 0) return '';
  const declare = block([
    ...setsGone.map((s) => `\tset ${ident(s.name)} {\n\t\ttype ${s.type};${heldFlags(s).length > 0 ? ` flags ${heldFlags(s).join(',')};` : ''}\n\t}`),
    ...helpersGone.map(helperText),
    ...held.chains.map((c) => `\tchain ${ident(c.name)} {${c.base ? `\n\t\t${baseSpec({ ...c.base, priority: c.base.prio })}` : ''}\n\t}`),
  ]);
  return declare + held.chains.map((c) => flush(c.name)).join('') +
    chainsGone.map((c) => `delete chain ${TABLE_REF} ${ident(c.name)}\n`).join('') +
    setsGone.map((s) => `delete set ${TABLE_REF} ${ident(s.name)}\n`).join('') +
    helpersGone.map((h) => `delete ct helper ${TABLE_REF} ${ident(h.name)}\n`).join('');
}

/**
 * The whole load: `held` (what the table holds now, if it exists) adds the removal of what the plan dropped. The
 * same plan and holdings always give the same text, byte for byte.
 */
export function renderDocument(plan: Plan, held?: Holdings): string {
  const layout = layoutOf(plan);
  const declarations = block([...layout.helpers.map(helperText), ...layout.sets.map(setText), ...layout.chains.map(chainDeclText)]);
  // Rules go in as `add rule`, not in a second block of each chain: reopening a chain is a chain update, and a
  // transaction with an update makes the kernel wait out an RCU grace period when nft's socket closes (bench:
  // start's "after the last program"); on a namespace with no table of ours the load is then creations only.
  const rules = layout.chains.flatMap((c) => c.lines.map((l) => `add rule ${TABLE_REF} ${ident(c.name)} ${l}\n`));
  return `# tsfirewall: the whole of table ${TABLE_REF}, in one transaction (nft -f)\n` +
    (held ? prelude(layout, held) : '') + declarations + layout.chains.map((c) => flush(c.name)).join('') + rules.join('');
}

/** stop: our table and everything in it, in a form that is no error when the table is already gone. */
export function removeDocument(): string {
  return `table ${TABLE_REF} {}\ndelete table ${TABLE_REF}\n`;
}

/**
 * Rollback to a snapshot taken with `nft list table` (text: it keeps counters, and each ban's time left as
 * "expires"), in one transaction; no snapshot means the table did not exist, so rolling back removes it.
 */
export function rollbackDocument(listing: string | undefined): string {
  return listing === undefined || listing.trim() === '' ? removeDocument() : `${removeDocument()}${listing.endsWith('\n') ? listing : `${listing}\n`}`;
}
