/**
 * Every config key, its default and its parser, in one table: the loader validates against it, the unknown-key
 * check suggests from it, and a test holds the shipped example config to it. Defaults reproduce the seed.
 */
import { BACKEND_NAMES, type BackendName } from './types.js';
import * as n from './network-values.js';
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
  SNAT_TO: key('', optional(n.snatTo)),
  IPV6: key('drop', v.oneOf(['drop', 'drop-inbound', 'mirror', 'off'] as const)),
  MYIP6: key('', optional(n.ipv6Address)),
  NETMASK6: key('', optional(v.integer(1, 128))),
  OUTPUT_POLICY: key('accept', v.oneOf(['accept', 'drop'] as const)),
  OUTPUT_ALLOW: key('', listOf(n.egressItem)),
  MODULES: key('nf_conntrack_ftp nf_nat', listOf(v.moduleName)),
  FAIL2BAN: key('auto', v.oneOf(['auto', 'yes', 'no'] as const)),
  BAN_MODE: key('auto', v.oneOf(['auto', 'ipset', 'chain'] as const)),
  // nft and legacy are the names before the native nftables backend, when nft meant iptables-nft.
  BACKEND: key('auto', (raw: string) => BACKEND_ALIASES[raw.trim()] ?? v.oneOf(['auto', ...BACKEND_NAMES] as const)(raw)),
  MAILGUARD_ACCOUNT: key('notausers', v.accountName),
  // The recidive jail: fail2ban's own log, a long all-ports ban for a host its jails banned MAXRETRY times.
  RECIDIVE: key('no', v.bool),
  RECIDIVE_MAXRETRY: key('3', v.integer(1, 100)),
  RECIDIVE_FINDTIME: key('86400', v.integer(60, 31_536_000)),
  // As JAIL_BANTIME_MAX: the kernel's largest ipset timeout, so the ban still ends if fail2ban is down.
  RECIDIVE_BANTIME: key('604800', v.integer(60, 2_147_483)),
  RECIDIVE_LOGPATH: key('/var/log/fail2ban.log', v.logPath),
  // Network blocklists (BLOCKLIST_<NAME>_FILE or _URL): a bound on each list, and on each fetch.
  BLOCKLIST_MAX_ENTRIES: key('65536', v.integer(1, 1_000_000)),
  BLOCKLIST_FETCH_TIMEOUT: key('30', v.integer(1, 600)),
  BLOCKLIST_FETCH_MAX_BYTES: key('16777216', v.integer(1024, 268_435_456)),
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
 * Per-blocklist keys, spelled BLOCKLIST_<NAME>_<FIELD>: a list is a local file or a URL (exactly one), whose
 * networks go into the sets bl-NAME and bl6-NAME (ipset's 31 characters).
 */
export const BLOCKLIST_FIELDS = {
  FILE: key('', optional(v.filePath)),
  URL: key('', optional(v.blocklistUrl)),
} as const;
export type BlocklistField = keyof typeof BLOCKLIST_FIELDS;
export const BLOCKLIST_KEY = /^BLOCKLIST_([A-Z][A-Z0-9]{0,15})_(FILE|URL)$/;

/**
 * Per-service keys, spelled SERVICE_<NAME>_<FIELD>. Defaults of "" mean "take it from KNOWN_SERVICES".
 * Ban names become chain "fail2ban-NAME" (iptables allows 28 characters) and set "f2b-NAME".
 */
export const SERVICE_FIELDS = {
  PORTS: key('', v.nonEmpty(listOf(v.port), 'port')),
  PROTO: key('', v.nonEmpty(listOf(v.oneOf(['tcp', 'udp'] as const)), 'protocol (tcp, udp)')),
  FROM: key('any', (raw: string) => (raw.trim().toLowerCase() === 'any' ? [] : v.nonEmpty(listOf(v.cidr), 'network, or "any"')(raw))),
  INTERFACES: key('', listOf(v.netdevName)),
  RATE_LIMIT: key('', v.rateLimit),
  RATE_NAME: key('', v.token(32)),
  LOG_PREFIX: key('', optional(v.logPrefix)),
  BANS: key('', v.bool),
  BAN_NAME: key('', v.token(19)),
  BAN_SCOPE: key('service', v.oneOf(['service', 'all'] as const)),
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

/**
 * Key families whose middle part is a name the admin chooses: FORWARD_<NAME> (and FORWARD_<NAME>_FROM),
 * ROUTE_<NAME>_<FIELD>, INTERFACE_<IF>_POLICY (IF spelled as the device is, eth0 or br-lan). `field` '' is the
 * family's own key (FORWARD_<NAME>=...). config/network.ts reads them; the shipped example documents each field.
 */
export interface KeyFamily {
  readonly pattern: RegExp;
  readonly fields: Readonly<Record<string, KeySpec<unknown>>>;
  /** How the shipped example spells one key of each field, for the test that holds the two together. */
  readonly example: (field: string) => string;
}

const FROM_ANY = (raw: string) => (raw.trim().toLowerCase() === 'any' ? [] : v.nonEmpty(listOf(v.cidr), 'network, or "any"')(raw));

export const KEY_FAMILIES = {
  FORWARD: {
    pattern: /^FORWARD_([A-Z][A-Z0-9]{0,15})(?:_([A-Z_]+))?$/,
    fields: { '': key('', n.forwardSpec), FROM: key('any', FROM_ANY) },
    example: (field: string) => `FORWARD_WEB${field ? `_${field}` : ''}`,
  },
  ROUTE: {
    pattern: /^ROUTE_([A-Z][A-Z0-9]{0,15})_([A-Z_]+)$/,
    fields: {
      FROM: key('', n.endpoints), TO: key('', n.endpoints),
      PORTS: key('', listOf(v.port)), PROTO: key('', listOf(v.oneOf(['tcp', 'udp'] as const))),
    },
    example: (field: string) => `ROUTE_LAN_${field}`,
  },
  INTERFACE: {
    pattern: /^INTERFACE_(.+)_([A-Z]+)$/,
    fields: { POLICY: key('filter', v.oneOf(['accept', 'filter'] as const)) },
    example: (field: string) => `INTERFACE_wg0_${field}`,
  },
} as const satisfies Record<string, KeyFamily>;
