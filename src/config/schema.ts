/**
 * Every config key, its default and its parser, in one table: the loader validates against it, the unknown-key
 * check suggests from it, and a test holds the shipped example config to it. Defaults reproduce the seed.
 */
import { BACKEND_NAMES, type BackendName } from './types.js';
import * as f from './fleet.js';
import * as v from './values.js';

/** Old BACKEND values, still read (with a warning from the loader): nft meant iptables-nft before nftables came. */
export const BACKEND_ALIASES: Readonly<Record<string, BackendName>> = { nft: 'iptables-nft', legacy: 'iptables-legacy' };

export interface KeySpec<T> {
  readonly default: string;
  readonly parse: (raw: string) => T;
}

const key = <T>(def: string, parse: (raw: string) => T): KeySpec<T> => ({ default: def, parse });
const optional = <T>(parse: (raw: string) => T) => (raw: string): T | undefined =>
  raw.trim() === '' ? undefined : parse(raw);
const listOf = <T>(parse: (raw: string) => T) => (raw: string): T[] => v.list(raw).map(parse);

export const GLOBAL_KEYS = {
  INTERFACE: key('', optional(v.ifaceName)),
  MYIP: key('', optional(v.ipv4Address)),
  NETMASK: key('', optional(v.netmask)),
  TRUST_LOCAL_SUBNET: key('yes', v.bool),
  TRUSTED_NETS: key('', listOf(v.cidr)),
  DROP_NOT_FOR_ME: key('yes', v.bool),
  ANTI_SPOOFING: key('yes', v.bool),
  ALLOW_PING: key('no', v.bool),
  LOG_DROPPED: key('no', v.logRate),
  SERVICES: key('ssh ftp web', listOf(v.serviceName)),
  SNAT_INTERFACE: key('', optional(v.netdevName)),
  SNAT_TO: key('', optional(v.ipv4Address)),
  IPV6: key('drop', v.oneOf(['drop', 'mirror', 'off'] as const)),
  MODULES: key('nf_conntrack_ftp nf_nat', listOf(v.moduleName)),
  FAIL2BAN: key('auto', v.oneOf(['auto', 'yes', 'no'] as const)),
  BAN_MODE: key('auto', v.oneOf(['auto', 'ipset', 'chain'] as const)),
  // nft and legacy are the names before the native nftables backend, when nft meant iptables-nft.
  BACKEND: key('auto', (raw: string) => BACKEND_ALIASES[raw.trim()] ?? v.oneOf(['auto', ...BACKEND_NAMES] as const)(raw)),
  MAILGUARD_ACCOUNT: key('notausers', v.accountName),
  // Fleet bans (docs/fleet.md): all off while FLEET_SERVERS is empty.
  FLEET_SERVERS: key('', listOf(f.natsUrl)),
  FLEET_CREDS: key('', optional(f.absoluteFile)),
  FLEET_TLS_CA: key('', optional(f.absoluteFile)),
  FLEET_NAME: key('', optional(f.fleetName)),
  FLEET_JAILS: key('all', f.allOr(v.token(40))),
  FLEET_ACCEPT_FROM: key('all', f.allOr(f.fleetName)),
  FLEET_ORIGIN_MAX: key('100000', v.integer(1, 10_000_000)),
  FLEET_ORIGIN_RATE: key('20000/60', f.originRate),
} as const;

/**
 * Per-service keys, spelled SERVICE_<NAME>_<FIELD>. Defaults of "" mean "take it from KNOWN_SERVICES".
 * Ban names become chain "fail2ban-NAME" (iptables allows 28 characters) and set "f2b-NAME".
 */
export const SERVICE_FIELDS = {
  PORTS: key('', v.nonEmpty(listOf(v.port), 'port')),
  PROTO: key('', v.nonEmpty(listOf(v.oneOf(['tcp', 'udp'] as const)), 'protocol (tcp, udp)')),
  FROM: key('any', (raw: string) => (raw.trim().toLowerCase() === 'any' ? [] : v.nonEmpty(listOf(v.cidr), 'network, or "any"')(raw))),
  RATE_LIMIT: key('', v.rateLimit),
  RATE_NAME: key('', v.token(32)),
  LOG_PREFIX: key('', optional(v.logPrefix)),
  BANS: key('', v.bool),
  BAN_NAME: key('', v.token(19)),
  JAIL_FILTER: key('', v.token(40)),
  JAIL_MAXRETRY: key('5', v.integer(1, 1000)),
  JAIL_FINDTIME: key('600', v.integer(1, 31_536_000)),
  JAIL_BANTIME: key('600', v.integer(1, 31_536_000)),
  // The kernel's largest ipset timeout: an escalated ban must still expire on its own if fail2ban is down.
  JAIL_BANTIME_MAX: key('', optional(v.integer(1, 2_147_483))),
  JAIL_LOGPATH: key('', optional(v.logPath)),
} as const;

export type GlobalKey = keyof typeof GLOBAL_KEYS;
export type ServiceField = keyof typeof SERVICE_FIELDS;
export const SERVICE_KEY = /^SERVICE_([A-Z][A-Z0-9]{0,15})_([A-Z_]+)$/;
