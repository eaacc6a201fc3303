/**
 * A rule's JSON expression list (`nft -j`) -> the text nft itself prints for it, without the rule's own counter
 * (status shows counters as numbers) and comment (that is the group). Reading JSON keeps one parser for every
 * field; printing it back keeps status readable. Anything this does not know is printed as `<key json>`, never
 * dropped, so a foreign rule in our table still shows what it does.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const only = (o: Obj): [string, Json] => Object.entries(o)[0] ?? ['', null];
const unknown = (key: string, value: Json) => `<${key} ${JSON.stringify(value)}>`;

/** Meta keys nft prints without the word "meta". */
const BARE_META = new Set(['iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype']);
/** Strings nft quotes when it prints them: interface names, log prefixes, helper names. */
const QUOTED_META = new Set(['iifname', 'oifname']);

/** The left-hand side of a match, and the element key of a set statement. */
const SUBJECTS: Readonly<Record<string, (v: Obj) => string>> = {
  payload: (v) => `${v.protocol} ${v.field}`,
  meta: (v) => (BARE_META.has(String(v.key)) ? String(v.key) : `meta ${v.key}`),
  ct: (v) => `ct ${v.dir ? `${v.dir} ` : ''}${v.key}`,
  fib: (v) => `fib ${(Array.isArray(v.flags) ? v.flags : [v.flags]).join(' . ')} ${v.result}`,
};

/** A JSON value (address, prefix, set, subject...) as nft writes it; `quote` for strings nft prints in quotes. */
export function value(v: Json | undefined, quote = false): string {
  if (typeof v === 'string') return quote ? `"${v}"` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => value(x, quote)).join(',');
  if (!isObj(v)) return 'null';
  const [key, inner] = only(v);
  if (SUBJECTS[key] && isObj(inner)) return SUBJECTS[key]!(inner);
  if (key === 'prefix' && isObj(inner)) return `${inner.addr}/${inner.len}`;
  if (key === 'range' && Array.isArray(inner)) return `${value(inner[0])}-${value(inner[1])}`;
  if (key === 'set' && Array.isArray(inner)) {
    return `{ ${inner.map((e) => (Array.isArray(e) ? `${value(e[0])} : ${statement(e[1] as Obj)}` : value(e, quote))).join(', ')} }`;
  }
  if (key === 'elem' && isObj(inner)) return value(inner.val, quote);
  return unknown(key, inner);
}

const subjectKey = (left: Json | undefined) => (isObj(left) && isObj(left.meta) ? String(left.meta.key) : '');
const OPS: Readonly<Record<string, string>> = { '==': '', in: '', '!=': '!= ', '<': '< ', '>': '> ', '<=': '<= ', '>=': '>= ' };

const limitText = (v: Obj) => {
  const unit = v.rate_unit && v.rate_unit !== 'packets' ? ` ${v.rate_unit}` : '';
  // nft leaves out a packet limit's default burst of 5; so does this, to read like `nft list`.
  const burstUnit = unit === '' ? 'packets' : String(v.burst_unit ?? 'bytes');
  const burst = v.burst !== undefined && !(unit === '' && v.burst === 5) ? ` burst ${v.burst} ${burstUnit}` : '';
  return `limit rate ${v.inv ? 'over ' : ''}${v.rate}${unit}/${v.per}${burst}`;
};

/** Statements in nft's own words, by JSON key. */
const STATEMENTS: Readonly<Record<string, (v: Json) => string>> = {
  accept: () => 'accept',
  drop: () => 'drop',
  return: () => 'return',
  continue: () => 'continue',
  jump: (v) => `jump ${isObj(v) ? v.target : v}`,
  goto: (v) => `goto ${isObj(v) ? v.target : v}`,
  counter: (v) => (isObj(v) ? `counter packets ${v.packets} bytes ${v.bytes}` : 'counter'),
  log: (v) => ['log', ...(isObj(v) ? Object.entries(v).map(([k, x]) => `${k} ${value(x, k === 'prefix')}`) : [])].join(' '),
  limit: (v) => (isObj(v) ? limitText(v) : unknown('limit', v)),
  notrack: () => 'notrack',
  redirect: (v) => (isObj(v) && v.port !== undefined ? `redirect to :${value(v.port)}` : 'redirect'),
  masquerade: (v) => (isObj(v) ? `masquerade ${JSON.stringify(v)}` : 'masquerade'),
  snat: (v) => (isObj(v) ? `snat ${v.family ? `${v.family} ` : ''}to ${value(v.addr)}${v.port === undefined ? '' : `:${value(v.port)}`}` : unknown('snat', v)),
  dnat: (v) => (isObj(v) ? `dnat ${v.family ? `${v.family} ` : ''}to ${value(v.addr)}${v.port === undefined ? '' : `:${value(v.port)}`}` : unknown('dnat', v)),
  reject: (v) => (isObj(v) && !(v.type === 'icmpx' && v.expr === 'port-unreachable') ? `reject with ${v.type} ${value(v.expr)}` : 'reject'),
  'ct helper': (v) => `ct helper set ${value(v, true)}`,
  mangle: (v) => (isObj(v) ? `${value(v.key)} set ${value(v.value)}` : unknown('mangle', v)),
  vmap: (v) => (isObj(v) ? `${value(v.key)} vmap ${value(v.data)}` : unknown('vmap', v)),
  match: (v) => (isObj(v) ? `${value(v.left)} ${OPS[String(v.op)] ?? `${v.op} `}${value(v.right, QUOTED_META.has(subjectKey(v.left)))}` : unknown('match', v)),
  set: (v) => {
    if (!isObj(v)) return unknown('set', v);
    const stmts = Array.isArray(v.stmt) ? v.stmt.map((s) => statement(s as Obj)) : [];
    return `${v.op} ${v.set} { ${[value(v.elem), ...stmts].join(' ')} }`;
  },
};

/** One statement of a rule (or of a set statement's element), looked up by its JSON key. */
export function statement(s: Obj): string {
  const [key, v] = only(s);
  return STATEMENTS[key]?.(v) ?? unknown(key, v);
}

/** The rule as nft prints it, minus its counter with values (the rule's own) and its comment. */
export function ruleText(expr: readonly Obj[]): string {
  return expr.filter((s) => !(isObj(s.counter))).map(statement).join(' ');
}

/** The rule's own counter: the counter statement with values, not one inside a set statement. */
export function ruleCounter(expr: readonly Obj[]): { packets: number; bytes: number } {
  const c = expr.map((s) => s.counter).find(isObj);
  return { packets: Number(c?.packets ?? 0), bytes: Number(c?.bytes ?? 0) };
}

/** The verdict a rule ends in, if any (accept, drop...). */
export function verdictOf(expr: readonly Obj[]): string | undefined {
  const last = expr[expr.length - 1];
  const key = last ? only(last)[0] : '';
  return ['accept', 'drop', 'return', 'jump', 'goto', 'reject'].includes(key) ? key : undefined;
}

/**
 * What a rule does, as its last statement says: its verdict ("drop", "jump input4"), or the action it ends in
 * ("log", "snat", "ct helper"); intact() compares this with what was rendered.
 */
export function doesOf(expr: readonly Obj[]): string {
  const last = expr[expr.length - 1];
  if (!last) return 'nothing';
  const [key, v] = only(last);
  return key === 'jump' || key === 'goto' ? `${key} ${isObj(v) ? v.target : v}` : key;
}

export type { Json, Obj };
