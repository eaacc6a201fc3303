/**
 * Config text -> validated Config. Every problem is collected (not just the first) and reported with its key
 * and line; warnings (unknown keys, keys for services that are not enabled) do not stop the firewall.
 */
import dotenv from 'dotenv';
import { closest } from 'fastest-levenshtein';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { fleetConfig } from './fleet.js';
import { readConfigText } from './file.js';
import { scanLines } from './lines.js';
import { quoted } from './quote.js';
import { BACKEND_ALIASES, GLOBAL_KEYS, SERVICE_FIELDS, SERVICE_KEY, type GlobalKey, type KeySpec, type ServiceField } from './schema.js';
import { KNOWN_SERVICES } from './services.js';
import type { Config, ServiceConfig } from './types.js';
import { ValueError } from './values.js';

export interface LoadedConfig { readonly config: Config; readonly warnings: readonly string[] }

export function loadConfig(flag?: string, env = process.env): LoadedConfig {
  const { path, text } = readConfigText(flag, env);
  return parseConfig(text, path);
}

export function parseConfig(text: string, source?: string): LoadedConfig {
  const scan = scanLines(text);
  const values = dotenv.parse(text);
  const problems: ConfigProblem[] = [...scan.problems];
  const warnings: string[] = [];
  const at = (key: string) => scan.lineOf.get(key);

  for (const [key, value] of Object.entries(values)) {
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      problems.push({ key, line: at(key), message: 'value contains a newline or control character' });
    }
  }

  function read<T>(key: string, spec: KeySpec<T>, fallback = spec.default): T | undefined {
    const raw = values[key] ?? fallback;
    try {
      return spec.parse(raw);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ key, line: at(key), message: err.message });
      return undefined;
    }
  }

  const g = <K extends GlobalKey>(k: K) => read(k, GLOBAL_KEYS[k] as KeySpec<ReturnType<(typeof GLOBAL_KEYS)[K]['parse']>>);
  const serviceNames = (g('SERVICES') ?? []).map((s) => s.toLowerCase());
  const duplicates = serviceNames.filter((s, i) => serviceNames.indexOf(s) !== i);
  if (duplicates.length > 0) {
    problems.push({ key: 'SERVICES', line: at('SERVICES'), message: `lists ${duplicates.join(', ')} more than once` });
  }
  const services = [...new Set(serviceNames)].map((name) => readService(name, read, problems, at));

  for (const key of Object.keys(values)) {
    const m = SERVICE_KEY.exec(key);
    if (key in GLOBAL_KEYS) continue;
    if (m && m[2]! in SERVICE_FIELDS) {
      if (!serviceNames.includes(m[1]!.toLowerCase())) {
        warnings.push(`${where(source, at(key))}${key} is set but service ${m[1]!.toLowerCase()} is not in SERVICES; ignored`);
      }
      continue;
    }
    const known = [...Object.keys(GLOBAL_KEYS), ...serviceNames.flatMap((s) =>
      Object.keys(SERVICE_FIELDS).map((f) => `SERVICE_${s.toUpperCase()}_${f}`))];
    warnings.push(`${where(source, at(key))}unknown key ${key}; ignored (did you mean ${closest(key.toUpperCase(), known)}?)`);
  }

  const config = {
    source,
    iface: g('INTERFACE'),
    myip: g('MYIP'),
    netmask: g('NETMASK'),
    trustLocalSubnet: g('TRUST_LOCAL_SUBNET')!,
    trustedNets: g('TRUSTED_NETS')!,
    dropNotForMe: g('DROP_NOT_FOR_ME')!,
    antiSpoofing: g('ANTI_SPOOFING')!,
    allowPing: g('ALLOW_PING')!,
    logDropped: g('LOG_DROPPED'),
    services,
    snat: snat(g('SNAT_INTERFACE'), g('SNAT_TO'), problems, at),
    ipv6: g('IPV6')!,
    modules: g('MODULES')!,
    fail2ban: g('FAIL2BAN')!,
    banMode: g('BAN_MODE')!,
    backend: g('BACKEND')!,
    mailguardAccount: g('MAILGUARD_ACCOUNT')!,
  } satisfies Config;
  const fleet = fleetConfig({ servers: g('FLEET_SERVERS'), creds: g('FLEET_CREDS'), tlsCa: g('FLEET_TLS_CA'), name: g('FLEET_NAME'),
    jails: g('FLEET_JAILS'), acceptFrom: g('FLEET_ACCEPT_FROM'), originMax: g('FLEET_ORIGIN_MAX'), originRate: g('FLEET_ORIGIN_RATE') }, services);
  for (const p of fleet.problems) problems.push({ ...p, line: at(p.key) });

  if (config.myip !== undefined && values.NETMASK === undefined) {
    problems.push({ key: 'MYIP', line: at('MYIP'), message: 'is set, so NETMASK must be set too' });
  }
  checkUnique(services.map((s) => s.rateLimit?.name), 'RATE_NAME', 'hit-rate list', problems);
  checkUnique(services.map((s) => s.bans), 'BAN_NAME', 'ban list', problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  const withFleet: Config = fleet.fleet ? { ...config, fleet: fleet.fleet } : config;
  // Legal but almost certainly a slip: a /0 "friend" accepts every packet before any service rule is reached.
  for (const net of config.trustedNets.filter((n) => n.endsWith('/0'))) {
    warnings.push(`${where(source, at('TRUSTED_NETS'))}TRUSTED_NETS includes ${net}, which trusts every address: nothing is filtered`);
  }
  const oldBackend = values.BACKEND?.trim();
  if (oldBackend !== undefined && oldBackend in BACKEND_ALIASES) {
    warnings.push(`${where(source, at('BACKEND'))}BACKEND=${oldBackend} is the old name of ${BACKEND_ALIASES[oldBackend]}; write that instead`);
  }
  if (config.netmask === 0 && config.trustLocalSubnet) {
    warnings.push(`${where(source, at('NETMASK'))}NETMASK=0 with TRUST_LOCAL_SUBNET=yes makes every address a trusted local: nothing is filtered`);
  }
  return { config: withFleet, warnings };
}

type Reader = <T>(key: string, spec: KeySpec<T>, fallback?: string) => T | undefined;

function readService(name: string, read: Reader, problems: ConfigProblem[], at: (k: string) => number | undefined): ServiceConfig {
  const known = KNOWN_SERVICES[name];
  const prefix = `SERVICE_${name.toUpperCase()}_`;
  const f = <K extends ServiceField>(field: K, fallback?: string) =>
    read(prefix + field, SERVICE_FIELDS[field] as KeySpec<ReturnType<(typeof SERVICE_FIELDS)[K]['parse']>>, fallback);
  const portsGiven = at(prefix + 'PORTS') !== undefined;
  if (!known && !portsGiven) {
    problems.push({ key: 'SERVICES', line: at('SERVICES'), message: `service ${quoted(name)} is not built in; set ${prefix}PORTS (and ${prefix}PROTO)` });
  }
  const upper = name.toUpperCase();
  const rate = f('RATE_LIMIT', known?.rateLimit ?? 'no');
  const bantime = f('JAIL_BANTIME') ?? 600;
  const bantimeMax = f('JAIL_BANTIME_MAX');
  if (bantimeMax !== undefined && bantimeMax < bantime) {
    problems.push({ key: `${prefix}JAIL_BANTIME_MAX`, line: at(`${prefix}JAIL_BANTIME_MAX`), message: `must be at least ${prefix}JAIL_BANTIME (${bantime}), got ${bantimeMax}` });
  }
  const bans = f('BANS', known?.bans ? 'yes' : 'no');
  return {
    name,
    ports: (known || portsGiven ? f('PORTS', known?.ports.join(' ')) : undefined) ?? [],
    protos: f('PROTO', known?.protos.join(' ') ?? 'tcp') ?? ['tcp'],
    from: f('FROM') ?? [],
    rateLimit: rate && { ...rate, name: f('RATE_NAME', upper) ?? upper },
    logPrefix: f('LOG_PREFIX'),
    ...(known?.helper ? { helper: known.helper } : {}),
    bans: bans ? f('BAN_NAME', upper) ?? upper : undefined,
    jail: {
      filter: f('JAIL_FILTER', known?.filter ?? name) ?? name,
      maxretry: f('JAIL_MAXRETRY') ?? 5,
      findtime: f('JAIL_FINDTIME') ?? 600,
      bantime,
      ...(bantimeMax === undefined ? {} : { bantimeMax }),
      logpath: f('JAIL_LOGPATH') ?? '',
    },
  };
}

function snat(iface: string | undefined, to: string | undefined, problems: ConfigProblem[], at: (k: string) => number | undefined) {
  if (to !== undefined && iface === undefined) {
    problems.push({ key: 'SNAT_TO', line: at('SNAT_TO'), message: 'is set, so SNAT_INTERFACE must be set too' });
  }
  return iface === undefined ? undefined : { iface, to };
}

function checkUnique(names: (string | undefined)[], field: string, what: string, problems: ConfigProblem[]): void {
  const seen = names.filter((n): n is string => n !== undefined);
  const dupes = [...new Set(seen.filter((n, i) => seen.indexOf(n) !== i))];
  for (const d of dupes) problems.push({ key: `SERVICE_*_${field}`, message: `two services share the ${what} name ${d}` });
}

const where = (source: string | undefined, line: number | undefined) =>
  source ? `${source}${line ? `:${line}` : ''}: ` : '';
