/**
 * Config text -> validated Config. Every problem is collected (not just the first) and reported with its key
 * and line; warnings (unknown keys, keys for services that are not enabled) do not stop the firewall.
 */
import { closest } from 'fastest-levenshtein';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { readDropIns, type SnippetText, type SourceText } from './dropins.js';
import { dropInDir, readConfigText } from './file.js';
import { mergeSources, type Origin } from './merge.js';
import { checkNetwork, familyKey, familyKeysFor, readNetwork } from './network.js';
import { parseSnippet } from './snippets.js';
import { fleetConfig } from './fleet.js';
import { quoted } from './quote.js';
import { BACKEND_ALIASES, BLOCKLIST_FIELDS, BLOCKLIST_KEY, GLOBAL_KEYS, KEY_FAMILIES, SERVICE_FIELDS, SERVICE_KEY, type GlobalKey, type KeySpec, type ServiceField } from './schema.js';
import { KNOWN_SERVICES } from './services.js';
import type { BlocklistConfig, Config, ServiceConfig } from './types.js';
import { ValueError } from './values.js';

export interface LoadedConfig {
  readonly config: Config;
  readonly warnings: readonly string[];
  /** Every file:line that set each key, in reading order (the last one wins): `show --sources`. */
  readonly origins: ReadonlyMap<string, readonly Origin[]>;
  /**
   * The settings as written (key -> value), a drop-in's over the main file's: what diff names when it says which
   * key changed, and what `show --sources` prints.
   */
  readonly values: Readonly<Record<string, string>>;
}

/** The main config, then its drop-in directory's *.conf in lexical order and its raw snippets (dropins.ts). */
export function loadConfig(flag?: string, env = process.env): LoadedConfig {
  const { path, text } = readConfigText(flag, env);
  const dropIns = readDropIns(dropInDir(flag, env));
  return parseSources([...(path === undefined && text === '' ? [] : [{ path, text }]), ...dropIns.conf], dropIns.snippets, path);
}

export function parseConfig(text: string, source?: string): LoadedConfig {
  return parseSources([{ path: source, text }], [], source);
}

/** Config text from several files (a later one's value wins) and snippets -> a validated Config. */
export function parseSources(
  sources: readonly (Omit<SourceText, 'path'> & { readonly path?: string })[], snippetFiles: readonly SnippetText[], source?: string,
): LoadedConfig {
  const merged = mergeSources(sources);
  const values = merged.values;
  const problems: ConfigProblem[] = [...merged.problems];
  const warnings: string[] = [];
  const at = (key: string) => merged.origin.get(key)?.line;
  const whereKey = (key: string) => where(merged.origin.get(key)?.file ?? source, at(key));

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
  // Validated whether or not RECIDIVE is on: a bad value is reported before the day it is switched on.
  const recidiveOn = g('RECIDIVE') ?? false;
  const recidive = { maxretry: g('RECIDIVE_MAXRETRY')!, findtime: g('RECIDIVE_FINDTIME')!, bantime: g('RECIDIVE_BANTIME')!, logpath: g('RECIDIVE_LOGPATH')! };

  for (const key of Object.keys(values)) {
    const m = SERVICE_KEY.exec(key);
    if (key in GLOBAL_KEYS || BLOCKLIST_KEY.test(key)) continue;
    if (m && m[2]! in SERVICE_FIELDS) {
      if (!serviceNames.includes(m[1]!.toLowerCase())) {
        warnings.push(`${whereKey(key)}${key} is set but service ${m[1]!.toLowerCase()} is not in SERVICES; ignored`);
      }
      continue;
    }
    const family = familyKey(key);
    if (family && family.field in KEY_FAMILIES[family.family].fields) continue;
    const known = [...Object.keys(GLOBAL_KEYS), ...serviceNames.flatMap((s) =>
      Object.keys(SERVICE_FIELDS).map((f) => `SERVICE_${s.toUpperCase()}_${f}`)), ...familyKeysFor(Object.keys(values))];
    warnings.push(`${whereKey(key)}unknown key ${key}; ignored (did you mean ${closest(key.toUpperCase(), known)}?)`);
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
    myip6: g('MYIP6'),
    netmask6: g('NETMASK6'),
    ...readNetwork(Object.keys(values), read, problems, at),
    egress: { policy: g('OUTPUT_POLICY')!, allow: g('OUTPUT_ALLOW')! },
    modules: g('MODULES')!,
    fail2ban: g('FAIL2BAN')!,
    banMode: g('BAN_MODE')!,
    backend: g('BACKEND')!,
    mailguardAccount: g('MAILGUARD_ACCOUNT')!,
    ...(recidiveOn ? { recidive } : {}),
    snippets: [] as Config['snippets'],
    blocklists: readBlocklists(Object.keys(values), read, problems, at),
    blocklistLimits: { maxEntries: g('BLOCKLIST_MAX_ENTRIES')!, fetchTimeout: g('BLOCKLIST_FETCH_TIMEOUT')!, fetchMaxBytes: g('BLOCKLIST_FETCH_MAX_BYTES')! },
  } satisfies Config;
  const fleet = fleetConfig({ servers: g('FLEET_SERVERS'), creds: g('FLEET_CREDS'), tlsCa: g('FLEET_TLS_CA'), name: g('FLEET_NAME'),
    jails: g('FLEET_JAILS'), acceptFrom: g('FLEET_ACCEPT_FROM'), originMax: g('FLEET_ORIGIN_MAX'), originRate: g('FLEET_ORIGIN_RATE') }, services);
  for (const p of fleet.problems) problems.push({ ...p, line: at(p.key) });

  if (config.myip !== undefined && values.NETMASK === undefined) {
    problems.push({ key: 'MYIP', line: at('MYIP'), message: 'is set, so NETMASK must be set too' });
  }
  checkUnique(services.map((s) => s.rateLimit?.name), 'RATE_NAME', 'hit-rate list', problems);
  warnings.push(...checkNetwork(config, values, problems, at).map((w) => `${where(source, w.line)}${w.message}`));
  checkUnique([...services.map((s) => s.bans), ...(recidiveOn ? ['RECIDIVE'] : [])], 'BAN_NAME', 'ban list', problems);
  if (recidiveOn && serviceNames.includes('recidive')) {
    problems.push({ key: 'SERVICES', line: at('SERVICES'), message: 'a service named recidive would share its jail with RECIDIVE=yes; name it otherwise' });
  }
  const snippets = snippetFiles.map((f) => {
    const parsed = parseSnippet(f);
    problems.push(...parsed.problems);
    return parsed.snippet;
  });
  // A key's problem names the file that set it, which is a drop-in's when one overrode the main file.
  const located = problems.map((p) => (p.file !== undefined || p.key === undefined ? p : { ...p, file: merged.origin.get(p.key)?.file }));
  if (located.length > 0) throw new ConfigError(located, source);
  const withFleet: Config = fleet.fleet ? { ...config, fleet: fleet.fleet } : config;
  // Legal but almost certainly a slip: a /0 "friend" accepts every packet before any service rule is reached.
  for (const net of config.trustedNets.filter((n) => n.endsWith('/0'))) {
    warnings.push(`${whereKey('TRUSTED_NETS')}TRUSTED_NETS includes ${net}, which trusts every address: nothing is filtered`);
  }
  const oldBackend = values.BACKEND?.trim();
  if (oldBackend !== undefined && oldBackend in BACKEND_ALIASES) {
    warnings.push(`${whereKey('BACKEND')}BACKEND=${oldBackend} is the old name of ${BACKEND_ALIASES[oldBackend]}; write that instead`);
  }
  if (config.netmask === 0 && config.trustLocalSubnet) {
    warnings.push(`${whereKey('NETMASK')}NETMASK=0 with TRUST_LOCAL_SUBNET=yes makes every address a trusted local: nothing is filtered`);
  }
  return { config: snippets.length > 0 ? { ...withFleet, snippets } : withFleet, warnings, origins: merged.history, values };
}

/**
 * Settings (as LoadedConfig.values holds them) -> Config, as if a file held exactly them: diff compiles the settings
 * the rules were loaded with, one change at a time. Single quotes keep a value literal in dotenv; a value holding one
 * goes in double quotes, one holding both in backticks.
 */
export function parseSettings(values: Readonly<Record<string, string>>, source = 'the loaded settings'): LoadedConfig {
  const quote = (v: string) => (!v.includes("'") ? `'${v}'` : !v.includes('"') ? `"${v}"` : `\`${v}\``);
  return parseConfig(Object.entries(values).map(([k, v]) => `${k}=${quote(v)}`).join('\n') + '\n', source);
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
    interfaces: f('INTERFACES') ?? [],
    rateLimit: rate && { ...rate, name: f('RATE_NAME', upper) ?? upper },
    logPrefix: f('LOG_PREFIX'),
    ...(known?.helper ? { helper: known.helper } : {}),
    bans: bans ? f('BAN_NAME', upper) ?? upper : undefined,
    banScope: f('BAN_SCOPE') ?? 'service',
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

/** Every BLOCKLIST_<NAME>_* key names a list; each list has exactly one source. Sorted by name, as the sets are. */
function readBlocklists(keys: readonly string[], read: Reader, problems: ConfigProblem[], at: (k: string) => number | undefined): BlocklistConfig[] {
  const names = [...new Set(keys.map((k) => BLOCKLIST_KEY.exec(k)?.[1]).filter((n): n is string => n !== undefined))].sort();
  return names.map((name) => {
    const file = read(`BLOCKLIST_${name}_FILE`, BLOCKLIST_FIELDS.FILE);
    const url = read(`BLOCKLIST_${name}_URL`, BLOCKLIST_FIELDS.URL);
    if (file !== undefined && url !== undefined) {
      problems.push({ key: `BLOCKLIST_${name}_URL`, line: at(`BLOCKLIST_${name}_URL`), message: `BLOCKLIST_${name}_FILE is set too: a list comes from a file or a URL, not both` });
    } else if (file === undefined && url === undefined) {
      const key = keys.find((k) => k.startsWith(`BLOCKLIST_${name}_`))!;
      problems.push({ key, line: at(key), message: 'is empty: give the list a file (_FILE) or a URL (_URL)' });
    }
    return { name, ...(file === undefined ? {} : { file }), ...(url === undefined ? {} : { url }) };
  });
}

function snat(iface: string | undefined, to: string | undefined, problems: ConfigProblem[], at: (k: string) => number | undefined) {
  if (to !== undefined && iface === undefined) {
    problems.push({ key: 'SNAT_TO', line: at('SNAT_TO'), message: 'is set, so SNAT_INTERFACE must be set too' });
  }
  if (iface === undefined) return undefined;
  return to === 'masquerade' ? { iface, masquerade: true } : { iface, to };
}

function checkUnique(names: (string | undefined)[], field: string, what: string, problems: ConfigProblem[]): void {
  const seen = names.filter((n): n is string => n !== undefined);
  const dupes = [...new Set(seen.filter((n, i) => seen.indexOf(n) !== i))];
  for (const d of dupes) problems.push({ key: `SERVICE_*_${field}`, message: `two services share the ${what} name ${d}` });
}

const where = (source: string | undefined, line: number | undefined) =>
  source ? `${source}${line ? `:${line}` : ''}: ` : '';
