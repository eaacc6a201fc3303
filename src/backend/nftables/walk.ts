/**
 * explain's reading of `nft -j list ruleset`: every table a packet of one family passes (ours and anyone's, since
 * each base chain at a hook filters on its own), each rule's JSON expressions back into the model's terms, the base
 * chains per hook in priority order, and every named set's elements (the bans, the limiter's windows). Statements
 * this does not know are kept as "unread" rather than guessed. Pure.
 */
import { parseMarker, type Family } from '../../model.js';
import type { Hook, SetMember, WalkChain, WalkMatch, WalkRule, WalkTarget } from '../types.js';
import { TABLE } from './layout.js';
import { statement, value, type Json, type Obj } from './text.js';

type MutableMatch = { -readonly [K in keyof WalkMatch]: WalkMatch[K] };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const only = (o: Obj): [string, Json] => Object.entries(o)[0] ?? ['', null];

/** The nft table families a packet of each family passes. */
const TABLE_FAMILIES: Readonly<Record<Family, readonly string[]>> = { ipv4: ['ip', 'inet'], ipv6: ['ip6', 'inet'] };
const ADDRESS_WORD: Readonly<Record<string, Family>> = { ip: 'ipv4', ip6: 'ipv6' };
/** The hooks whose base chains see a packet for each of explain's hooks, in the kernel's order. */
const HOOK_ORDER: Readonly<Record<Hook, readonly string[]>> = { input: ['prerouting', 'input'], forward: ['prerouting', 'forward'], output: ['output'] };

/** A chain's (or set's) name as explain prints it: ours plainly, another table's with its family and table. */
export const objectId = (family: string, table: string, name: string) => (family === 'inet' && table === TABLE ? name : `${family} ${table} ${name}`);

/** `{ 80, 443, 1000-2000 }` or a single port, as the model's "lo:hi" strings; undefined for anything else. */
function ports(right: Json): string[] | undefined {
  const one = (v: Json): string | undefined => (typeof v === 'number' ? String(v)
    : isObj(v) && Array.isArray(v.range) ? `${v.range[0]}:${v.range[1]}` : undefined);
  const list = isObj(right) && Array.isArray(right.set) ? right.set.map(one) : [one(right)];
  return list.every((p): p is string => p !== undefined) ? list : undefined;
}

/** An address, prefix or range as a member/match string ("a", "a/len", "a-b"). */
const addressText = (v: Json): string | undefined => (typeof v === 'string' ? v
  : isObj(v) && isObj(v.prefix) ? `${v.prefix.addr}/${v.prefix.len}`
    : isObj(v) && Array.isArray(v.range) ? `${v.range[0]}-${v.range[1]}` : undefined);

const words = (v: Json): string[] => (Array.isArray(v) ? v.map(String) : isObj(v) && Array.isArray(v.set) ? v.set.map(String) : [String(v)]);

/** Reads one `match` statement into the match; false when it is not one this knows (it is then kept as unread). */
function readMatch(m: MutableMatch, v: Obj, id: (name: string) => string): boolean {
  const left = v.left;
  const right = v.right ?? null;
  const eq = v.op === '==' || v.op === 'in';
  const neg = v.op === '!=';
  if (!isObj(left) || (!eq && !neg)) return false;
  const [kind, subject] = only(left);
  if (!isObj(subject)) return false;
  if (kind === 'payload') {
    const { protocol, field } = subject as { protocol?: string; field?: string };
    if (protocol !== undefined && ADDRESS_WORD[protocol] && (field === 'saddr' || field === 'daddr')) {
      m.family = ADDRESS_WORD[protocol];
      if (typeof right === 'string' && right.startsWith('@')) {
        if (field !== 'saddr' || neg) return false;
        m.srcSet = id(right.slice(1));
        return true;
      }
      const cidr = addressText(right);
      if (cidr === undefined) return false;
      m[field === 'saddr' ? 'src' : 'dst'] = { cidr, ...(neg ? { negate: true } : {}) };
      return true;
    }
    if ((protocol === 'tcp' || protocol === 'udp') && field === 'dport' && eq) {
      const list = ports(right);
      if (!list) return false;
      m.proto = protocol;
      m.dports = list;
      return true;
    }
    if ((protocol === 'icmp' || protocol === 'icmpv6') && field === 'type' && eq) {
      m.family = protocol === 'icmp' ? 'ipv4' : 'ipv6';
      m.proto = protocol === 'icmp' ? 'icmp' : 'ipv6-icmp';
      // explain's only ICMP packet is an echo request: a list that holds it matches it, one that does not cannot.
      const echo = words(right).some((w) => ['echo-request', '8', '128'].includes(w));
      m.icmpType = echo ? 'echo-request' : words(right).join(',');
      return true;
    }
    return false;
  }
  if (kind === 'meta' && eq) {
    const key = String(subject.key);
    if (key === 'l4proto' && typeof right === 'string') { m.proto = right as WalkMatch['proto']; return true; }
    if (key === 'nfproto' && (right === 'ipv4' || right === 'ipv6')) { m.family = right; return true; }
    if ((key === 'iifname' || key === 'oifname') && typeof right === 'string') { m[key === 'iifname' ? 'inIface' : 'outIface'] = right; return true; }
    return false;
  }
  if (kind === 'ct' && subject.key === 'state' && eq && subject.dir === undefined) {
    m.ctstate = words(right).map((s) => s.toUpperCase()) as WalkMatch['ctstate'];
    return true;
  }
  return false;
}

/** `add @rl-NAME { ip saddr counter limit rate over ... burst N packets }`: the limiter's window, as a match. */
function readBudget(m: MutableMatch, v: Obj, id: (name: string) => string): boolean {
  const stmts = Array.isArray(v.stmt) ? v.stmt.filter(isObj) : [];
  const limit = stmts.map((s) => s.limit).find(isObj);
  const elem = isObj(v.elem) && isObj(v.elem.payload) ? v.elem.payload : undefined;
  if (!limit || limit.inv !== true || elem?.field !== 'saddr' || typeof v.set !== 'string') return false;
  m.budget = { set: id(v.set.replace(/^@/, '')), burst: Number(limit.burst ?? 5) };
  return true;
}

const VERDICTS: Readonly<Record<string, (v: Json, id: (name: string) => string) => WalkTarget>> = {
  accept: () => ({ kind: 'ACCEPT' }),
  drop: () => ({ kind: 'DROP' }),
  reject: () => ({ kind: 'REJECT' }),
  return: () => ({ kind: 'RETURN' }),
  continue: () => ({ kind: 'CONTINUE' }),
  jump: (v, id) => ({ kind: 'jump', chain: id(String(isObj(v) ? v.target : v)) }),
  goto: (v, id) => ({ kind: 'goto', chain: id(String(isObj(v) ? v.target : v)) }),
};

/** `meta nfproto vmap { ipv4 : jump input4 }` (our base chains' dispatch): for one family, a jump or nothing. */
function readVmap(v: Obj, family: Family, id: (name: string) => string): WalkTarget | undefined {
  if (!isObj(v.key) || !isObj(v.key.meta) || v.key.meta.key !== 'nfproto' || !isObj(v.data) || !Array.isArray(v.data.set)) return undefined;
  const entry = v.data.set.find((e) => Array.isArray(e) && e[0] === family) as Json[] | undefined;
  if (!entry) return { kind: 'CONTINUE' };
  const [verdict, arg] = isObj(entry[1]) ? only(entry[1]) : ['', null];
  return VERDICTS[verdict]?.(arg, id);
}

/** One rule's expressions in the model's terms, for one family. */
export function readRule(expr: readonly Obj[], family: Family, id: (name: string) => string): Pick<WalkRule, 'match' | 'target'> {
  const m: MutableMatch = {};
  const unread: string[] = [];
  let target: WalkTarget = { kind: 'CONTINUE' };
  for (const s of expr) {
    const [key, v] = only(s);
    if (key === 'match' && isObj(v)) { if (!readMatch(m, v, id)) unread.push(statement(s)); continue; }
    if (key === 'set' && isObj(v)) { if (v.op === 'add' && Array.isArray(v.stmt)) { if (!readBudget(m, v, id)) unread.push(statement(s)); } continue; }
    if (key === 'limit' && isObj(v)) {
      if (v.inv === true) unread.push(statement(s));
      else m.limit = { rate: `${v.rate}/${v.per}`, burst: Number(v.burst ?? 5) };
      continue;
    }
    if (key === 'log') { target = { kind: 'LOG', prefix: isObj(v) ? String(v.prefix ?? '') : '' }; continue; }
    if (key === 'vmap' && isObj(v)) { target = readVmap(v, family, id) ?? { kind: 'unread', text: statement(s) }; continue; }
    const verdict = VERDICTS[key];
    if (verdict) { target = verdict(v, id); continue; }
    if (key === 'xt') unread.push(statement(s));
    // counter, ct helper set, snat, mangle...: they let the packet go on.
  }
  return { match: unread.length > 0 ? { ...m, unread } : m, target };
}

/** The rule as `nft list` (and `show`) print it: its counter without values, its comment at the end. */
export function showText(expr: readonly Obj[], comment: Json | undefined): string {
  const text = expr.map((s) => (isObj(s.counter) ? 'counter' : statement(s))).join(' ');
  return comment === undefined || comment === null ? text : `${text} comment "${String(comment)}"`;
}

function members(set: Obj): SetMember[] {
  const elems = Array.isArray(set.elem) ? set.elem : [];
  return elems.flatMap((e): SetMember[] => {
    const inner = isObj(e) && isObj(e.elem) ? e.elem : { val: e };
    const ip = addressText(inner.val ?? null) ?? value(inner.val);
    const counter = isObj(inner.counter) ? { packets: Number(inner.counter.packets) } : {};
    return [{ ip, ...(typeof inner.expires === 'number' ? { expiresIn: inner.expires } : {}), ...counter }];
  });
}

export interface RulesetWalk {
  readonly chains: WalkChain[];
  readonly rules: WalkRule[];
  readonly hooks: Record<Hook, string[]>;
  readonly sets: Map<string, SetMember[]>;
  /** Some rule of our table carries our marker. */
  readonly loaded: boolean;
}

/** `nft -j list ruleset` for one family (empty text: no ruleset at all). */
export function walkOfRuleset(json: string, family: Family): RulesetWalk {
  const doc: unknown = json.trim() === '' ? {} : JSON.parse(json);
  const list: Obj[] = (isObj(doc as Json) && Array.isArray((doc as Obj).nftables) ? (doc as Obj).nftables as Json[] : []).filter(isObj);
  const of = (kind: string) => list.map((o) => o[kind]).filter(isObj).filter((o) => TABLE_FAMILIES[family].includes(String(o.family)));
  const chains = of('chain');
  const rules = of('rule');
  const based = chains.filter((c) => c.hook !== undefined && (c.type === 'filter' || c.type === 'route'))
    .map((c) => ({ id: objectId(String(c.family), String(c.table), String(c.name)), hook: String(c.hook), prio: Number(c.prio ?? 0) }));
  const hooks = Object.fromEntries((Object.keys(HOOK_ORDER) as Hook[]).map((h) => [h, HOOK_ORDER[h].flatMap((hook) =>
    based.filter((b) => b.hook === hook).sort((a, b) => a.prio - b.prio).map((b) => b.id))])) as Record<Hook, string[]>;
  return {
    chains: chains.map((c) => {
      const id = objectId(String(c.family), String(c.table), String(c.name));
      return c.hook === undefined ? { name: id } : { name: id, policy: c.policy === 'drop' ? 'DROP' as const : 'ACCEPT' as const };
    }),
    rules: rules.map((r) => {
      const id = (name: string) => objectId(String(r.family), String(r.table), name);
      const expr = (Array.isArray(r.expr) ? r.expr : []).filter(isObj);
      const group = parseMarker(String(r.comment ?? ''))?.group;
      return { chain: id(String(r.chain)), ...readRule(expr, family, id), ...(group ? { group } : {}), text: showText(expr, r.comment) };
    }),
    hooks,
    sets: new Map(of('set').map((s) => [objectId(String(s.family), String(s.table), String(s.name)), members(s)])),
    loaded: rules.some((r) => r.family === 'inet' && r.table === TABLE && parseMarker(String(r.comment ?? '')) !== undefined),
  };
}
