import type { Snippet } from './snippets.js';

/** The firewall tools tsfirewall can drive: chosen in the config, implemented behind src/backend/types.ts. */
export type BackendName = 'nftables' | 'iptables-nft' | 'iptables-legacy';
export const BACKEND_NAMES: readonly BackendName[] = ['nftables', 'iptables-nft', 'iptables-legacy'];

import type { EgressPolicy, InterfacePolicy, PortForward, RouteRule } from './network-types.js';

/** The validated configuration: what the admin asked for, before any host facts are known. */
export interface LogRate { readonly rate: string; readonly burst: number }

export interface RateLimit { readonly hitcount: number; readonly seconds: number; readonly name: string }

/** fail2ban settings for one protected service (written into jail.d by the ban-daemon wiring). */
export interface JailConfig {
  readonly filter: string;
  readonly maxretry: number;
  readonly findtime: number;
  readonly bantime: number;
  /**
   * Repeat offenders: each new ban of the same address lasts twice the one before, up to this many seconds
   * (fail2ban's bantime.increment). Undefined: every ban lasts bantime.
   */
  readonly bantimeMax?: number;
  /** Empty: read the journal when the service logs there, else the distro's log file. */
  readonly logpath: string;
}

export interface ServiceConfig {
  readonly name: string;
  readonly ports: readonly string[];
  readonly protos: readonly ('tcp' | 'udp')[];
  /** Allowed source networks; empty means the whole world. */
  readonly from: readonly string[];
  /** Interfaces the service is open on (SERVICE_<NAME>_INTERFACES); empty means every interface. */
  readonly interfaces: readonly string[];
  readonly rateLimit?: RateLimit;
  readonly logPrefix?: string;
  /** Connection-tracking helper attached to the service's TCP ports (raw table), if it has one. */
  readonly helper?: string;
  /** Name of the ban chain/set (fail2ban-NAME) jumped to before the accept, if bans are on. */
  readonly bans?: string;
  /** service: a banned host is kept from this service's ports; all: from every port of this host. */
  readonly banScope: 'service' | 'all';
  readonly jail: JailConfig;
}

/** One network blocklist: a local file, or a URL whose last good copy `blocklist refresh` keeps. */
export interface BlocklistConfig {
  readonly name: string;
  readonly file?: string;
  readonly url?: string;
}

export interface Config {
  /** Where the config came from, for messages; undefined for the embedded default. */
  readonly source?: string;
  readonly iface?: string;
  readonly myip?: string;
  readonly netmask?: number;
  readonly trustLocalSubnet: boolean;
  readonly trustedNets: readonly string[];
  readonly dropNotForMe: boolean;
  readonly antiSpoofing: boolean;
  readonly allowPing: boolean;
  /** Log what the INPUT policy drops, at most this often (xt_limit); undefined: no such log. */
  readonly logDropped?: LogRate;
  readonly services: readonly ServiceConfig[];
  /** Source NAT out of `iface`: to `to` (default MYIP), or, with `masquerade`, to the interface's own address. */
  readonly snat?: { readonly iface: string; readonly to?: string; readonly masquerade?: boolean };
  /** drop: all IPv6 but loopback (the seed); drop-inbound: only inbound and routed; mirror: IPv4's rules; off. */
  readonly ipv6: 'drop' | 'drop-inbound' | 'mirror' | 'off';
  /** MYIP6 and NETMASK6: a fixed IPv6 address and prefix length, like MYIP and NETMASK. */
  readonly myip6?: string;
  readonly netmask6?: number;
  /** INTERFACE_<IF>_POLICY, port forwards, routed-traffic rules, OUTPUT_POLICY/OUTPUT_ALLOW (network-types.ts). */
  readonly interfaces: readonly InterfacePolicy[];
  readonly forwards: readonly PortForward[];
  readonly routes: readonly RouteRule[];
  readonly egress: EgressPolicy;
  readonly modules: readonly string[];
  readonly fail2ban: 'auto' | 'yes' | 'no';
  /** auto: ipset when the ipset program is installed, else the seed's per-IP chain. */
  readonly banMode: 'auto' | 'ipset' | 'chain';
  /** auto: nftables where nft and nf_tables are present, else the iptables flavour the system uses. */
  readonly backend: 'auto' | BackendName;
  /** Black-hole account for `mailguard enable`: Postfix's luser_relay target. */
  readonly mailguardAccount: string;
  /** The recidive jail (RECIDIVE=yes): fail2ban's own log, long all-ports bans for hosts banned again and again. */
  readonly recidive?: { readonly maxretry: number; readonly findtime: number; readonly bantime: number; readonly logpath: string };
  /** Network blocklists, by name (BLOCKLIST_<NAME>_FILE or _URL): each is a set the INPUT chain drops from. */
  readonly blocklists: readonly BlocklistConfig[];
  readonly blocklistLimits: { readonly maxEntries: number; readonly fetchTimeout: number; readonly fetchMaxBytes: number };
  /** Raw snippets of the drop-in directory, in lexical order (config/snippets.ts). */
  readonly snippets: readonly Snippet[];
  /** The language the chosen backend loads (settled with the backend, discover/choices.ts): others are left out. */
  readonly snippetSyntax?: Snippet['syntax'];
  /** Fleet bans through NATS JetStream (docs/fleet.md); undefined when FLEET_SERVERS is empty. */
  readonly fleet?: FleetConfig;
}

/** Sharing bans with the other hosts of a fleet: where the engine is, who this host is, what it shares and takes. */
export interface FleetConfig {
  /** nats:// or tls:// URLs, port filled in. */
  readonly servers: readonly string[];
  /** A NATS credentials file (JWT and seed), an nkey seed file, or a "user:password" file. */
  readonly creds?: string;
  /** The CA (PEM) that verifies the servers' certificates. */
  readonly tlsCa?: string;
  /** This host's name in the fleet: its subject token. */
  readonly name: string;
  /** Services whose jails share their bans (both ways), or all of them. */
  readonly jails: 'all' | readonly string[];
  /** Hosts whose bans this host applies, or all of them. */
  readonly acceptFrom: 'all' | readonly string[];
  /** Most bans one origin may hold here at once. */
  readonly originMax: number;
  /** Most bans one origin may place per `seconds`, in bursts of up to `count`. */
  readonly originRate: { readonly count: number; readonly seconds: number };
}
