/**
 * The FLEET_* keys' own value shapes and how they become one FleetConfig: kept apart from load.ts because they
 * judge each other (a jail list only means something against the services with bans, a name only once servers are
 * given) and because the fleet is off, and costs nothing, unless FLEET_SERVERS is set.
 */
import { hostname } from 'node:os';
import { isDottedQuad, parseIPv6 } from '../net/addr.js';
import { quoted } from './quote.js';
import type { FleetConfig, ServiceConfig } from './types.js';
import { ValueError } from './values.js';

const fail = (msg: string): never => { throw new ValueError(msg); };

/** A host's name in the fleet is a NATS subject token and a file-name-safe word: no dots, wildcards or blanks. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function fleetName(raw: string): string {
  const v = raw.trim();
  return NAME.test(v) ? v : fail(`expected a fleet host name of 1-64 letters, digits, _ or - (it is a NATS subject token), got ${quoted(raw)}`);
}

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** nats://HOST[:PORT] or tls://HOST[:PORT]; credentials never in the URL (they would end up in logs and ps). */
export function natsUrl(raw: string): string {
  const v = raw.trim();
  const m = /^(nats|tls):\/\/(\[[^\]]+\]|[^:/@\s]+)(?::(\d{1,5}))?\/?$/.exec(v);
  if (!m) {
    if (/^[a-z]+:\/\/[^/]*@/.test(v)) return fail(`the server URL ${quoted(raw)} carries credentials: put them in the file FLEET_CREDS names`);
    return fail(`expected nats://HOST[:PORT] or tls://HOST[:PORT], got ${quoted(raw)}`);
  }
  const host = m[2]!;
  const okHost = host.startsWith('[') ? parseIPv6(host.slice(1, -1)) !== undefined
    : /^[\d.]+$/.test(host) ? isDottedQuad(host) : host.length <= 253 && host.split('.').every((l) => DNS_LABEL.test(l));
  if (!okHost) return fail(`expected a host name or IP address in ${quoted(raw)}`);
  const port = m[3] === undefined ? 4222 : Number(m[3]);
  if (port < 1 || port > 65535 || (m[3] !== undefined && /^0/.test(m[3]))) return fail(`expected a port 1-65535 in ${quoted(raw)}`);
  return `${m[1]}://${host}:${port}`;
}

/** A file the fleet service reads (credentials, CA): absolute, nothing that needs quoting anywhere. */
export function absoluteFile(raw: string): string {
  const v = raw.trim();
  return /^\/[A-Za-z0-9_.\/+@-]{1,255}$/.test(v) && !v.split('/').includes('..') && !v.endsWith('/')
    ? v
    : fail(`expected an absolute file path (letters, digits, _ . / + @ -), got ${quoted(raw)}`);
}

/** "all" (or empty) or a list of names. */
export function allOr(parse: (raw: string) => string) {
  return (raw: string): 'all' | string[] => {
    const items = raw.split(/[\s,]+/).filter(Boolean);
    if (items.length === 0 || (items.length === 1 && items[0]!.toLowerCase() === 'all')) return 'all';
    return [...new Set(items.map(parse))];
  };
}

/** "N/SECONDS": at most N bans per SECONDS from one origin, in bursts of up to N. */
export function originRate(raw: string): { readonly count: number; readonly seconds: number } {
  const m = /^\s*(\d{1,7})\s*\/\s*(\d{1,6})s?\s*$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) return fail(`expected BANS/SECONDS like 20000/60 (both at least 1), got ${quoted(raw)}`);
  return { count: Number(m[1]), seconds: Number(m[2]) };
}

/** The host name's first label, as FLEET_NAME's default; undefined when it cannot be one. */
export function defaultFleetName(name = hostname()): string | undefined {
  const first = name.split('.')[0] ?? '';
  return NAME.test(first) ? first : undefined;
}

export interface FleetValues {
  readonly servers?: readonly string[];
  readonly creds?: string;
  readonly tlsCa?: string;
  readonly name?: string;
  readonly jails?: 'all' | readonly string[];
  readonly acceptFrom?: 'all' | readonly string[];
  readonly originMax?: number;
  readonly originRate?: { readonly count: number; readonly seconds: number };
}

/**
 * The fleet settings, or undefined when FLEET_SERVERS is empty (no fleet). Problems are returned keyed, for the
 * loader to report with their lines: a jail that shares nothing, a name that cannot be derived.
 */
export function fleetConfig(v: FleetValues, services: readonly ServiceConfig[]): { fleet?: FleetConfig; problems: { key: string; message: string }[] } {
  const problems: { key: string; message: string }[] = [];
  if (!v.servers || v.servers.length === 0) return { problems };
  const name = v.name ?? defaultFleetName();
  if (name === undefined) problems.push({ key: 'FLEET_NAME', message: `the host name ${quoted(hostname())} is no fleet name (letters, digits, _ or -): set FLEET_NAME` });
  const banned = services.filter((s) => s.bans !== undefined).map((s) => s.name);
  if (v.jails !== undefined && v.jails !== 'all') {
    for (const j of v.jails) {
      const service = j.replace(/^tsfw-/, '').toLowerCase();
      if (!banned.includes(service)) problems.push({ key: 'FLEET_JAILS', message: `${quoted(j)} is no jail of this host (jails: ${banned.map((b) => `tsfw-${b}`).join(', ') || 'none'})` });
    }
  }
  const tls = v.servers.some((s) => s.startsWith('tls://'));
  if (tls && v.tlsCa === undefined) problems.push({ key: 'FLEET_TLS_CA', message: 'a tls:// server needs the CA that signed its certificate' });
  if (problems.length > 0 || name === undefined) return { problems };
  const jails = v.jails === undefined || v.jails === 'all' ? 'all' : v.jails.map((j) => j.replace(/^tsfw-/, '').toLowerCase());
  return {
    problems,
    fleet: {
      servers: v.servers,
      ...(v.creds === undefined ? {} : { creds: v.creds }),
      ...(v.tlsCa === undefined ? {} : { tlsCa: v.tlsCa }),
      name,
      jails,
      acceptFrom: v.acceptFrom ?? 'all',
      originMax: v.originMax ?? 100_000,
      originRate: v.originRate ?? { count: 20_000, seconds: 60 },
    },
  };
}
