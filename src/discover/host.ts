/**
 * MYIP and NETMASK, as the seed's script scraped them from ifconfig, but from node:os (sub-millisecond) and
 * /proc/net/route for the default-route interface. systeminformation's full scan costs ~700 ms, so it is only
 * consulted when /proc/net/route cannot be read at all: a table that can be read and holds no default route is the
 * answer ("no default route"), where systeminformation would guess the first interface with any address (an
 * unaddressed veth with only its link-local address) and the error would blame that interface instead.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { Config } from '../config/types.js';
import { DiscoveryError } from '../errors.js';
import { isLinkLocal6, parseNetwork } from '../net/addr.js';
import { defaultRouteIfaces } from './routes.js';

export interface HostFacts {
  readonly iface: string;
  /** MYIP and its prefix length; absent on a host whose interface has IPv6 only (IPV6=mirror or drop-inbound). */
  readonly myip?: string;
  readonly prefix?: number;
  /** MYIP6, or the global IPv6 addresses on the same interface (for IPv6 rules). */
  readonly myip6: readonly string[];
  /** The IPv6 local subnets: MYIP6/NETMASK6, or each global address's network on the interface. */
  readonly subnets6?: readonly string[];
  /**
   * Every address of every interface but loopback's, MYIP first: what "addressed to me" means. Absent when only
   * the config's addresses are known (a static MYIP at boot).
   */
  readonly locals?: readonly string[];
  /** net.ipv4.ip_forward, read only when the config routes (FORWARD_*, ROUTE_*): a router that does not forward is told. */
  readonly ipForward?: boolean;
  readonly warnings: readonly string[];
}

/**
 * At boot, before the network is up (`start --early`): no address to read yet, so only the rules that need none
 * can load. The interface's name is known only if the config gives it.
 */
export interface BootHost { readonly boot: true; readonly iface?: string }

export const isBootHost = (host: HostFacts | BootHost): host is BootHost => 'boot' in host;

/**
 * Host facts for the boot-time ruleset, without reading any interface: complete when the config fixes MYIP and
 * NETMASK (the whole ruleset can load before the network), otherwise a BootHost.
 */
export function bootFacts(config: Config): HostFacts | BootHost {
  return config.myip !== undefined ? staticFacts(config, config.iface) : { boot: true, iface: config.iface };
}

/** Every address of every interface but the loopback ones, each once, in canonical text (IPv6 without a zone). */
export function localAddresses(all: LocalInterfaces): string[] {
  const out = Object.values(all).flatMap((addrs) => (addrs ?? []).filter((a) => !a.internal)
    .map((a) => parseNetwork(a.address.replace(/%.*$/, ''))?.network).filter((a): a is string => a !== undefined));
  return [...new Set(out)];
}

/** MYIP6/NETMASK6 as the config fixes them, or the interface's global IPv6 addresses with their networks. */
function ipv6Facts(config: Config, addrs: readonly NetworkInterfaceInfo[]): Pick<HostFacts, 'myip6' | 'subnets6'> {
  if (config.myip6 !== undefined) {
    return { myip6: [config.myip6], subnets6: [networkOf(config.myip6, config.netmask6 ?? 128)] };
  }
  const globals = addrs.filter((a) => a.family === 'IPv6' && !a.internal && !isLinkLocal6(a.address));
  return {
    myip6: globals.map((a) => parseNetwork(a.address)?.network ?? a.address),
    subnets6: [...new Set(globals.map((a) => networkOf(a.address, Number(a.cidr?.split('/')[1] ?? 128))))],
  };
}

const networkOf = (address: string, prefix: number) => {
  const net = parseNetwork(`${address}/${prefix}`);
  return net ? `${net.network}/${net.prefix}` : `${address}/${prefix}`;
};

/** The addresses on this host's interfaces, as node:os reports them (interfaces without any are left out). */
export type LocalInterfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * MYIP as the config fixes it. With `local` (the host's addresses now) a MYIP that none of them has is warned about:
 * the rules would be made for someone else's address. Without (at boot, before the network is up) it cannot be.
 */
function staticFacts(config: Config, iface: string | undefined, local?: LocalInterfaces): HostFacts {
  const myip = config.myip!;
  const v4 = Object.entries(local ?? {}).flatMap(([name, addrs]) =>
    (addrs ?? []).filter((a) => a.family === 'IPv4').map((a) => ({ name, ...a })));
  const present = v4.length > 0 ? `interfaces: ${v4.map((a) => `${a.name} ${a.cidr ?? a.address}`).join(', ')}` : 'no interface has an IPv4 address';
  const warnings = local === undefined || v4.some((a) => a.address === myip) ? [] : [
    `MYIP=${myip} is on no interface of this host (${present}): the rules are made for an address this host does not have; ` +
      'check MYIP, or leave it empty to read the address from the interface',
  ];
  const own = local === undefined ? undefined : [...new Set([myip, ...localAddresses(local)])];
  const v6 = config.myip6 !== undefined ? ipv6Facts(config, []) : { myip6: [] };
  return { iface: iface ?? '', myip, prefix: config.netmask ?? 32, ...v6, ...(own ? { locals: own } : {}), warnings };
}

/**
 * `scan: false` skips systeminformation's slow search for the default interface when /proc names none: for status,
 * which only wants to know whether the address moved and must stay fast. `interfaces` stands in for node:os.
 */
export async function discoverHost(
  config: Config,
  opts: { procRoute?: string; procRoute6?: string; scan?: boolean; interfaces?: () => LocalInterfaces } = {},
): Promise<HostFacts> {
  const defaults = config.iface === undefined ? defaultRouteIfaces({ route4: opts.procRoute, route6: opts.procRoute6 }) : {};
  const routed = config.iface ?? defaults.ipv4 ?? (IPV6_ONLY_OK.has(config.ipv6) ? defaults.ipv6 : undefined);
  // Only when the route table cannot be read: systeminformation names some interface even with no default route.
  const guessed = routed === undefined && 'unreadable' in defaults && opts.scan !== false ? await defaultIfaceFromSystemInformation() : undefined;
  const iface = routed ?? guessed;
  const all = (opts.interfaces ?? networkInterfaces)();
  const forwarding = routes(config) ? { ipForward: ipForwarding() } : {};
  if (config.myip !== undefined) {
    const facts = staticFacts(config, iface, all);
    return { ...facts, ...forwarding, warnings: [...facts.warnings, ...absentInterfaces(config, all)] };
  }
  if (!iface) throw new DiscoveryError(NO_ROUTE);
  const addrs = all[iface] ?? [];
  if (addrs.length === 0) {
    const present = interfaceNames() ?? Object.keys(all);
    if (!present.includes(iface)) {
      throw new DiscoveryError(`interface ${iface} does not exist (present: ${present.join(', ') || 'none'})`);
    }
  }
  const v4 = addrs.find((a) => a.family === 'IPv4');
  const v6 = ipv6Facts(config, addrs);
  const state = operstate(iface);
  if (!v4 && !(IPV6_ONLY_OK.has(config.ipv6) && v6.myip6.length > 0)) {
    // libuv lists no addresses for an interface that is not up and running, so "down" lands here, not below.
    if (state !== undefined && state !== 'up' && state !== 'unknown') {
      throw new DiscoveryError(`interface ${iface} is ${state}: its addresses cannot be read until it is up; bring it up, or set MYIP and NETMASK`);
    }
    // systeminformation names some interface even when there is no default route: its pick is no proof of one.
    if (guessed !== undefined) throw new DiscoveryError(`${NO_ROUTE} (/proc/net/route is unreadable; ${iface}, the interface guessed instead, has no IPv4 address)`);
    const only6 = v6.myip6.length > 0 ? `; it has IPv6 addresses only (${v6.myip6.join(', ')}): set IPV6=mirror to filter this host by them` : '';
    throw new DiscoveryError(`interface ${iface} has no IPv4 address (not configured yet, or DHCP pending?)${only6}`);
  }
  const shown = v4?.address ?? v6.myip6.join(', ');
  const warnings = [...(state === 'down' ? [`interface ${iface} is down; rules are loaded for ${shown}`] : []), ...absentInterfaces(config, all)];
  const locals = [...new Set([...(v4 ? [v4.address] : []), ...localAddresses(all)])];
  const v4Facts = v4 ? { myip: v4.address, prefix: Number(v4.cidr?.split('/')[1] ?? 32) } : {};
  return { iface, ...v4Facts, ...v6, locals, ...forwarding, warnings };
}

/**
 * Interfaces the config names (INTERFACE_<IF>_POLICY, SERVICE_<NAME>_INTERFACES, route ends) that this host does
 * not have now: a VPN's may come later, but INTERFACE_ETH0_POLICY for eth0 would never match, so it is said.
 */
function absentInterfaces(config: Config, all: LocalInterfaces): string[] {
  const named = [
    ...config.interfaces.map((i) => [i.iface, `INTERFACE_${i.iface}_POLICY`] as const),
    ...config.services.flatMap((s) => s.interfaces.map((i) => [i, `SERVICE_${s.name.toUpperCase()}_INTERFACES`] as const)),
    ...config.routes.flatMap((r) => [...r.from, ...r.to].flatMap((e) => ('iface' in e ? [[e.iface, `ROUTE_${r.name}`] as const] : []))),
  ];
  if (named.length === 0) return [];
  const present = interfaceNames() ?? Object.keys(all);
  return [...new Map(named.filter(([i]) => !present.includes(i))).entries()].map(([i, key]) =>
    `${key} names interface ${i}, which this host does not have now (present: ${present.join(', ')}); its rules match once it exists`);
}

const routes = (config: Config) => config.forwards.length > 0 || config.routes.length > 0;

function ipForwarding(path = '/proc/sys/net/ipv4/ip_forward'): boolean | undefined {
  try { return readFileSync(path, 'utf8').trim() === '1'; } catch { return undefined; }
}

/** IPv6 settings under which a host with IPv6 addresses only is filtered by them (IPV6=drop would close it). */
const IPV6_ONLY_OK: ReadonlySet<Config['ipv6']> = new Set(['mirror', 'drop-inbound']);

/**
 * MYIP/NETMASK as a network ("192.0.2.0/24"): the seed's trusted local subnet. Bit arithmetic (net/addr.ts), not
 * ipaddr.js's CIDR parser, which costs more than the rest of a small ruleset's compile.
 */
export function localSubnet(host: { readonly myip: string; readonly prefix: number }): string {
  const net = parseNetwork(`${host.myip}/${host.prefix}`);
  if (net?.family !== 'ipv4') throw new DiscoveryError(`MYIP ${host.myip}/${host.prefix} is not an IPv4 address and prefix`);
  return `${net.network}/${net.prefix}`;
}

/** What discovery says when the host has no default route to read the interface from. */
export const NO_ROUTE = 'no default route; set INTERFACE (or MYIP and NETMASK)';

/** Every interface in this network namespace: node:os leaves out those with no address at all. */
export function interfaceNames(procDev = '/proc/net/dev'): string[] | undefined {
  try {
    return readFileSync(procDev, 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
  } catch {
    return undefined;
  }
}

function operstate(iface: string): string | undefined {
  try { return readFileSync(`/sys/class/net/${iface}/operstate`, 'utf8').trim(); } catch { return undefined; }
}

async function defaultIfaceFromSystemInformation(): Promise<string | undefined> {
  const mod = await import('systeminformation');
  const si = (mod as unknown as { default?: typeof mod }).default ?? mod;
  const name = await si.networkInterfaceDefault().catch(() => '');
  return name || undefined;
}
