/**
 * explain's reading of `iptables-save` (the lines parse.ts splits out): each rule's arguments back into the
 * model's terms, every table and chain a packet can meet, and the hooks' order of tables. An option this does not
 * know is kept as "unread" rather than guessed, so the walk says it cannot tell instead of being wrong. Pure.
 */
import type { Hook, WalkChain, WalkMatch, WalkRule, WalkTarget } from '../types.js';
import type { SavedTable } from './parse.js';

type MutableMatch = { -readonly [K in keyof WalkMatch]: WalkMatch[K] };
interface Reading { match: MutableMatch; unread: string[]; module: string }

/** The built-in chains each hook runs, table by table in the kernel's priority order; nat only rewrites addresses. */
const HOOK_CHAINS: Readonly<Record<Hook, readonly (readonly [string, string])[]>> = {
  input: [['raw', 'PREROUTING'], ['mangle', 'PREROUTING'], ['mangle', 'INPUT'], ['filter', 'INPUT'], ['security', 'INPUT']],
  forward: [['raw', 'PREROUTING'], ['mangle', 'PREROUTING'], ['mangle', 'FORWARD'], ['filter', 'FORWARD'], ['security', 'FORWARD']],
  output: [['raw', 'OUTPUT'], ['mangle', 'OUTPUT'], ['filter', 'OUTPUT'], ['security', 'OUTPUT']],
};

/** Targets after which the rule's chain goes on (they mark, log or set a helper). */
const GOES_ON = new Set(['LOG', 'NFLOG', 'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'SET', 'TCPMSS', 'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'CHECKSUM']);

/** A chain's name as explain prints it: the filter table's plainly, another table's with the table in front. */
export const chainId = (table: string, chain: string) => (table === 'filter' ? chain : `${table} ${chain}`);

/** iptables-save's words, with its double-quoted strings ("tsfw drop: ") as one word each. */
export function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

const range = (p: string) => p.replace('-', ':');
const recentOp = (op: 'set' | 'update') => (r: Reading) => { r.match.recent = { ...(r.match.recent ?? { name: 'DEFAULT' }), op }; };

/** Module options by `module option`: each reads its values into the match; negation is read by the caller. */
const OPTIONS: Readonly<Record<string, (r: Reading, values: readonly string[]) => void>> = {
  'tcp --dport': (r, [v]) => { r.match.dports = [range(v!)]; },
  'udp --dport': (r, [v]) => { r.match.dports = [range(v!)]; },
  'multiport --dports': (r, [v]) => { r.match.dports = v!.split(',').map(range); },
  'conntrack --ctstate': (r, [v]) => { r.match.ctstate = v!.split(',') as WalkMatch['ctstate']; },
  'state --state': (r, [v]) => { r.match.ctstate = v!.split(',') as WalkMatch['ctstate']; },
  'icmp --icmp-type': (r, [v]) => { r.match.icmpType = v!; },
  'icmp6 --icmpv6-type': (r, [v]) => { r.match.icmpType = v!; },
  'comment --comment': () => { /* the group marker, read by parse.ts */ },
  'limit --limit': (r, [v]) => { r.match.limit = { rate: v!, burst: r.match.limit?.burst ?? 5 }; },
  'limit --limit-burst': (r, [v]) => { r.match.limit = { rate: r.match.limit?.rate ?? '3/hour', burst: Number(v) }; },
  'recent --set': recentOp('set'),
  'recent --update': recentOp('update'),
  'recent --rcheck': recentOp('update'),
  'recent --seconds': (r, [v]) => { r.match.recent = { ...(r.match.recent ?? { name: 'DEFAULT', op: 'update' }), seconds: Number(v) }; },
  'recent --hitcount': (r, [v]) => { r.match.recent = { ...(r.match.recent ?? { name: 'DEFAULT', op: 'update' }), hitcount: Number(v) }; },
  'recent --name': (r, [v]) => { r.match.recent = { ...(r.match.recent ?? { op: 'update' }), name: v! }; },
  'recent --rsource': () => { /* the default: the source address is the key */ },
  'recent --reap': () => { /* only forgets old hits */ },
  'recent --mask': (r, [v]) => { if (v !== '255.255.255.255' && !/^f{1,4}(:f{1,4}){7}$/i.test(v!)) r.unread.push(`--mask ${v}`); },
};

/** The match's own options that take no value; every other option takes the words up to the next option. */
const FLAGS = new Set(['--set', '--update', '--rcheck', '--rsource', '--rdest', '--remove', '--reap', '--rttl', '--syn']);

function target(args: readonly string[], chains: ReadonlySet<string>, table: string): WalkTarget {
  const [flag, name, ...rest] = args;
  if (flag === undefined || name === undefined) return { kind: 'CONTINUE' };
  if (flag === '-g') return { kind: 'goto', chain: chainId(table, name) };
  if (chains.has(name)) return { kind: 'jump', chain: chainId(table, name) };
  const simple: Readonly<Record<string, WalkTarget>> = { ACCEPT: { kind: 'ACCEPT' }, DROP: { kind: 'DROP' }, RETURN: { kind: 'RETURN' }, REJECT: { kind: 'REJECT' } };
  if (simple[name]) return simple[name]!;
  if (name === 'LOG') return { kind: 'LOG', prefix: rest[rest.indexOf('--log-prefix') + 1] ?? '' };
  return GOES_ON.has(name) ? { kind: 'CONTINUE' } : { kind: 'unread', text: args.join(' ') };
}

/** One saved rule line ("-A CHAIN ...") in the model's terms. */
export function readRule(line: string, chains: ReadonlySet<string>, table: string): Pick<WalkRule, 'match' | 'target'> {
  const w = words(line).slice(2);
  const r: Reading = { match: {}, unread: [], module: '' };
  let negate = false;
  let i = 0;
  const values = () => {
    const out: string[] = [];
    while (i < w.length && !w[i]!.startsWith('-') && w[i] !== '!') out.push(w[i++]!);
    return out;
  };
  while (i < w.length) {
    const opt = w[i++]!;
    if (opt === '!') { negate = true; continue; }
    if (opt === '-j' || opt === '-g') return { match: done(r), target: target([opt, ...w.slice(i)], chains, table) };
    const vals = FLAGS.has(opt) ? [] : values();
    const was = negate;
    negate = false;
    if (opt === '-m') { r.module = vals[0] ?? ''; continue; }
    if (opt === '-s' || opt === '-d') { r.match[opt === '-s' ? 'src' : 'dst'] = { cidr: vals[0]!, ...(was ? { negate: true } : {}) }; continue; }
    if ((opt === '-i' || opt === '-o' || opt === '-p') && !was) {
      if (opt === '-p') r.match.proto = vals[0] as WalkMatch['proto'];
      else r.match[opt === '-i' ? 'inIface' : 'outIface'] = vals[0]!;
      continue;
    }
    if (opt === '--match-set' && !was && vals[1] === 'src') { r.match.srcSet = vals[0]!; continue; }
    const read = OPTIONS[`${r.module} ${opt}`];
    if (read && !was) read(r, vals);
    // A module's option is shown with its module; -i, -p and the like belong to no module.
    else r.unread.push([...(was ? ['!'] : []), r.module && opt.startsWith('--') ? `-m ${r.module}` : '', opt, ...vals].filter(Boolean).join(' '));
  }
  return { match: done(r), target: { kind: 'CONTINUE' } };
}

const done = (r: Reading): WalkMatch => (r.unread.length > 0 ? { ...r.match, unread: r.unread } : r.match);

/** Every table of one family's save, as the chains, rules and hooks explain walks. */
export function walkOfSaved(tables: readonly SavedTable[]): { chains: WalkChain[]; rules: WalkRule[]; hooks: Record<Hook, string[]> } {
  const chains: WalkChain[] = [];
  const rules: WalkRule[] = [];
  for (const t of tables) {
    const names = new Set(t.chains.map((c) => c.name));
    for (const c of t.chains) {
      const policy = c.policy === 'DROP' || c.policy === 'ACCEPT' ? c.policy : undefined;
      chains.push({ name: chainId(t.name, c.name), ...(policy ? { policy } : {}) });
    }
    for (const r of t.rules) {
      rules.push({ chain: chainId(t.name, r.chain), ...readRule(r.line, names, t.name), ...(r.group ? { group: r.group } : {}), text: r.line });
    }
  }
  const present = new Set(chains.map((c) => c.name));
  const hooks = Object.fromEntries((Object.keys(HOOK_CHAINS) as Hook[]).map((h) =>
    [h, HOOK_CHAINS[h].map(([table, chain]) => chainId(table, chain)).filter((id) => present.has(id))])) as Record<Hook, string[]>;
  return { chains, rules, hooks };
}
