/**
 * Why each difference of a diff is there: which config keys changed since the rules were loaded (the record keeps
 * the settings they were loaded with) and whether the interface's address moved, each tried alone on what was
 * loaded. A difference is put down to every change that, alone, makes it; one that only several changes together
 * make is put down to those that touch its chain and group. Pure: the caller passes how settings and host facts
 * become a plan (config parse, host choices, compile).
 */
import { GLOBAL_KEYS, SERVICE_FIELDS, SERVICE_KEY } from '../config/schema.js';
import { KNOWN_SERVICES } from '../config/services.js';
import type { BootHost, HostFacts } from '../discover/host.js';
import { isBootHost } from '../discover/host.js';
import type { Plan } from '../model.js';
import { diffPlans, ruleKey, type RuleChange } from './plan-diff.js';

export type Settings = Readonly<Record<string, string>>;
type PlanOf = (settings: Settings, host: HostFacts | BootHost) => Pick<Plan, 'rulesets'> | undefined;

/** One change since the load, in words ("SERVICE_SSH_PORTS changed 22 -> 2222"), and what it alone changes. */
export interface Cause { readonly label: string; readonly changes: readonly RuleChange[] }

/** The defaults a built-in service brings, as the text of the key that would set them. */
const SERVICE_DEFAULTS: Readonly<Record<string, (name: string) => string | undefined>> = {
  PORTS: (s) => KNOWN_SERVICES[s]?.ports.join(' '),
  PROTO: (s) => KNOWN_SERVICES[s]?.protos.join(' ') ?? 'tcp',
  RATE_LIMIT: (s) => KNOWN_SERVICES[s]?.rateLimit ?? 'no',
  RATE_NAME: (s) => s.toUpperCase(),
  BANS: (s) => (KNOWN_SERVICES[s]?.bans ? 'yes' : 'no'),
  BAN_NAME: (s) => s.toUpperCase(),
  JAIL_FILTER: (s) => KNOWN_SERVICES[s]?.filter ?? s,
};

/** What a key means when the file does not set it: the schema's default, or the built-in service's. */
export function effective(settings: Settings, key: string): string {
  const set = settings[key];
  if (set !== undefined) return set.trim();
  if (key in GLOBAL_KEYS) return GLOBAL_KEYS[key as keyof typeof GLOBAL_KEYS].default;
  const m = SERVICE_KEY.exec(key);
  if (!m || !(m[2]! in SERVICE_FIELDS)) return '';
  const name = m[1]!.toLowerCase();
  return SERVICE_DEFAULTS[m[2]!]?.(name) ?? SERVICE_FIELDS[m[2] as keyof typeof SERVICE_FIELDS].default;
}

const shown = (v: string) => (v === '' ? '(unset)' : v);

/** The keys whose meaning differs, with both values, in the order the new settings name them. */
export function changedKeys(loaded: Settings, now: Settings): { key: string; before: string; after: string }[] {
  const keys = [...new Set([...Object.keys(now), ...Object.keys(loaded)])];
  return keys.map((key) => ({ key, before: effective(loaded, key), after: effective(now, key) })).filter((k) => k.before !== k.after);
}

/** The address changes between two hosts, in the words of the keys that would fix them. */
export function addressLabels(loaded: HostFacts | BootHost, now: HostFacts | BootHost): string[] {
  const facts = (h: HostFacts | BootHost) => (isBootHost(h) ? { myip: '(none yet: boot-time ruleset)', prefix: '', v6: '' } :
    { myip: h.myip, prefix: String(h.prefix), v6: h.myip6.join(', ') });
  const a = facts(loaded);
  const b = facts(now);
  return [
    ...(a.myip !== b.myip ? [`MYIP ${a.myip} -> ${b.myip}`] : []),
    ...(a.prefix !== b.prefix && a.prefix !== '' && b.prefix !== '' ? [`NETMASK ${a.prefix} -> ${b.prefix}`] : []),
    ...(a.v6 !== b.v6 && !isBootHost(loaded) && !isBootHost(now) ? [`IPv6 addresses ${shown(a.v6)} -> ${shown(b.v6)}`] : []),
  ];
}

/**
 * Each change alone, applied to what was loaded (the loaded settings on the loaded host): a key's new value, or the
 * new address. A key whose change alone gives no valid config (MYIP without NETMASK) changes nothing alone.
 */
export function causesOf(loaded: { settings: Settings; host: HostFacts | BootHost }, now: { settings: Settings; host: HostFacts | BootHost },
  planOf: PlanOf): Cause[] {
  const base = planOf(loaded.settings, loaded.host);
  const alone = (plan: Pick<Plan, 'rulesets'> | undefined) => (base && plan ? diffPlans(base, plan) : []);
  const keys = changedKeys(loaded.settings, now.settings).map(({ key, before, after }) => {
    const { [key]: _dropped, ...rest } = loaded.settings;
    const settings = now.settings[key] === undefined ? rest : { ...loaded.settings, [key]: now.settings[key]! };
    return { label: `${key} changed ${shown(before)} -> ${shown(after)}`, changes: alone(planOf(settings, loaded.host)) };
  });
  const labels = addressLabels(loaded.host, now.host);
  const address = labels.length === 0 ? [] : [{ label: labels.join(', '), changes: alone(planOf(loaded.settings, now.host)) }];
  return [...keys, ...address];
}

const samePlace = (a: RuleChange, b: RuleChange) => a.family === b.family && a.table === b.table && a.chain === b.chain;
const touches = (c: RuleChange, s: RuleChange) => samePlace(c, s) &&
  ((c.before !== undefined && s.before !== undefined && ruleKey(c.before) === ruleKey(s.before)) ||
    (c.after !== undefined && s.after !== undefined && ruleKey(c.after) === ruleKey(s.after)));

/** The labels of the causes behind one difference (none: not a config or address change, e.g. a new build). */
export function causesFor(change: RuleChange, causes: readonly Cause[]): string[] {
  const exact = causes.filter((c) => c.changes.some((s) => touches(change, s)));
  if (exact.length > 0) return exact.map((c) => c.label);
  return causes.filter((c) => c.changes.some((s) => samePlace(change, s) && s.group === change.group)).map((c) => c.label);
}
