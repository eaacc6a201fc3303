/**
 * The named key families of config/schema.ts KEY_FAMILIES -> the validated interface policies, port forwards and
 * routed-traffic rules. Each entry is named by the admin (FORWARD_WEB, ROUTE_LAN_*, INTERFACE_wg0_POLICY), so the
 * entries are found from the keys present; problems carry key and line like every other config message.
 */
import type { ConfigProblem } from '../errors.js';
import type { Endpoint, InterfacePolicy, PortForward, RouteRule } from './network-types.js';
import type { Config } from './types.js';
import { quoted } from './quote.js';
import { KEY_FAMILIES, type KeySpec } from './schema.js';
import { netdevName, ValueError } from './values.js';

/** The families by their key prefix (FORWARD, ROUTE, INTERFACE): what familyKey() tells a key belongs to. */
export type FamilyName = keyof typeof KEY_FAMILIES;
type Reader = <T>(key: string, spec: KeySpec<T>, fallback?: string) => T | undefined;

/** Which family a key belongs to, its name part and its field ('' for FORWARD_<NAME> itself); undefined: none. */
export function familyKey(key: string): { family: FamilyName; name: string; field: string } | undefined {
  for (const family of Object.keys(KEY_FAMILIES) as FamilyName[]) {
    const m = KEY_FAMILIES[family].pattern.exec(key);
    if (m) return { family, name: m[1]!, field: m[2] ?? '' };
  }
  return undefined;
}

/** Every key the families would take for the names present: the unknown-key check suggests from these. */
export function familyKeysFor(keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const f = familyKey(k);
    if (!f) continue;
    const fields = Object.keys(KEY_FAMILIES[f.family].fields);
    const prefix = k.slice(0, k.length - (f.field === '' ? 0 : f.field.length + 1));
    out.push(...fields.map((field) => (field === '' ? prefix : `${prefix}_${field}`)));
  }
  return out;
}

/** What the families add to Config, spread into it by the loader. */
export interface NetworkConfig {
  readonly interfaces: readonly InterfacePolicy[];
  readonly forwards: readonly PortForward[];
  readonly routes: readonly RouteRule[];
}

/** Names per family, in the order their first key appears in the file (so rules follow the file's order). */
function namesOf(keys: readonly string[], at: (k: string) => number | undefined) {
  const byFamily = new Map<FamilyName, string[]>();
  const ordered = [...keys].sort((a, b) => (at(a) ?? 0) - (at(b) ?? 0));
  for (const k of ordered) {
    const f = familyKey(k);
    if (!f || !(f.field in KEY_FAMILIES[f.family].fields)) continue;
    const names = byFamily.get(f.family) ?? [];
    if (!names.includes(f.name)) names.push(f.name);
    byFamily.set(f.family, names);
  }
  return (family: FamilyName) => byFamily.get(family) ?? [];
}

/**
 * Reads every family entry the keys name. `read` is the loader's (it records a bad value with its key and line);
 * structural problems (a FORWARD_X_FROM without FORWARD_X, a route without an end) are added to `problems`.
 */
export function readNetwork(
  keys: readonly string[], read: Reader, problems: ConfigProblem[], at: (k: string) => number | undefined,
): NetworkConfig {
  const names = namesOf(keys, at);
  const has = (k: string) => keys.includes(k);
  const interfaces = names('INTERFACE').flatMap((iface): InterfacePolicy[] => {
    const key = `INTERFACE_${iface}_POLICY`;
    try {
      netdevName(iface);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ key, line: at(key), message: `names interface ${quoted(iface)}: ${err.message}` });
      return [];
    }
    const policy = read(key, KEY_FAMILIES.INTERFACE.fields.POLICY);
    return policy === undefined ? [] : [{ iface, policy }];
  });

  const forwards = names('FORWARD').flatMap((name): PortForward[] => {
    const key = `FORWARD_${name}`;
    if (!has(key)) {
      problems.push({ key: `${key}_FROM`, line: at(`${key}_FROM`), message: `is set, but ${key} (what to forward, like tcp:8080->198.51.100.20:80) is not` });
      return [];
    }
    const spec = read(key, KEY_FAMILIES.FORWARD.fields['']);
    const from = read(`${key}_FROM`, KEY_FAMILIES.FORWARD.fields.FROM) ?? [];
    return spec === undefined ? [] : [{ name, ...spec, from }];
  });

  const routes = names('ROUTE').flatMap((name): RouteRule[] => {
    const key = (field: string) => `ROUTE_${name}_${field}`;
    const missing = ['FROM', 'TO'].filter((f) => !has(key(f)));
    if (missing.length > 0) {
      const given = keys.find((k) => k.startsWith(`ROUTE_${name}_`))!;
      problems.push({ key: given, line: at(given), message: `a route needs both ${key('FROM')} and ${key('TO')} ("any" for anywhere); ${missing.map(key).join(' and ')} missing` });
      return [];
    }
    const f = KEY_FAMILIES.ROUTE.fields;
    const ports = read(key('PORTS'), f.PORTS) ?? [];
    const protos = read(key('PROTO'), f.PROTO, ports.length > 0 ? 'tcp' : '') ?? [];
    if (ports.length > 0 && protos.length === 0) problems.push({ key: key('PROTO'), line: at(key('PROTO')), message: 'ports need a protocol (tcp, udp)' });
    const from = read(key('FROM'), f.FROM);
    const to = read(key('TO'), f.TO);
    return from === undefined || to === undefined ? [] : [{ name, from, to, protos, ports }];
  });
  return { interfaces, forwards, routes };
}

/**
 * What only the whole config can tell about these keys: pairs that must come together (problems) and settings
 * that do nothing as written (warnings, each with the line to point at).
 */
export function checkNetwork(
  config: Pick<Config, 'myip6' | 'netmask6' | 'egress' | 'forwards' | 'routes' | 'ipv6'>,
  values: Readonly<Record<string, string>>, problems: ConfigProblem[], at: (k: string) => number | undefined,
): { line?: number; message: string }[] {
  const warnings: { line?: number; message: string }[] = [];
  if (values.MYIP6 !== undefined && values.NETMASK6 === undefined) problems.push({ key: 'MYIP6', line: at('MYIP6'), message: 'is set, so NETMASK6 must be set too' });
  if (values.NETMASK6 !== undefined && values.MYIP6 === undefined) problems.push({ key: 'NETMASK6', line: at('NETMASK6'), message: 'is set, so MYIP6 must be set too' });
  const seen = new Map<string, string>();
  for (const f of config.forwards ?? []) {
    const what = `${f.proto} ${f.port.replace(':', '-')}`;
    const other = seen.get(what);
    if (other) problems.push({ key: `FORWARD_${f.name}`, line: at(`FORWARD_${f.name}`), message: `forwards ${what}, as FORWARD_${other} already does` });
    seen.set(what, f.name);
  }
  if ((config.egress?.allow ?? []).length > 0 && config.egress?.policy === 'accept') {
    warnings.push({ line: at('OUTPUT_ALLOW'), message: 'OUTPUT_ALLOW is set but OUTPUT_POLICY=accept lets everything out; it is not used (set OUTPUT_POLICY=drop)' });
  }
  const v6 = config.ipv6 === 'mirror' || config.ipv6 === 'drop-inbound';
  const isV6 = (e: Endpoint | undefined) => e !== undefined && 'cidr' in e && e.cidr.includes(':');
  for (const r of config.routes ?? []) {
    if (config.ipv6 !== 'mirror' && [...r.from, ...r.to].some(isV6)) {
      warnings.push({ line: at(`ROUTE_${r.name}_FROM`), message: `ROUTE_${r.name} names IPv6 networks but IPV6=${config.ipv6}; those are not used (IPV6=mirror routes IPv6)` });
    }
  }
  if (!v6 && (config.egress?.allow ?? []).some((a) => isV6(a.to))) {
    warnings.push({ line: at('OUTPUT_ALLOW'), message: `OUTPUT_ALLOW names IPv6 destinations but IPV6=${config.ipv6}; those are not used` });
  }
  return warnings;
}
