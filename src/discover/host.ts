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
import { parseNetwork } from '../net/addr.js';

export interface HostFacts {
  readonly iface: string;
  readonly myip: string;
  readonly prefix: number;
  /** Global IPv6 addresses on the same interface (for IPV6=mirror). */
  readonly myip6: readonly string[];
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
  return { iface: iface ?? '', myip, prefix: config.netmask ?? 32, myip6: [], warnings };
}

/**
 * `scan: false` skips systeminformation's slow search for the default interface when /proc names none: for status,
 * which only wants to know whether the address moved and must stay fast. `interfaces` stands in for node:os.
 */
export async function discoverHost(
  config: Config,
  opts: { procRoute?: string; scan?: boolean; interfaces?: () => LocalInterfaces } = {},
): Promise<HostFacts> {
  const routed = config.iface ?? defaultRoute(opts.procRoute ?? '/proc/net/route');
  const guessed = routed === undefined && opts.scan !== false ? await defaultIfaceFromSystemInformation() : undefined;
  const iface = routed || guessed;
  const all = (opts.interfaces ?? networkInterfaces)();
  if (config.myip !== undefined) return staticFacts(config, iface, all);
  if (!iface) throw new DiscoveryError(NO_ROUTE);
  const addrs = all[iface] ?? [];
  if (addrs.length === 0) {
    const present = interfaceNames() ?? Object.keys(all);
    if (!present.includes(iface)) {
      throw new DiscoveryError(`interface ${iface} does not exist (present: ${present.join(', ') || 'none'})`);
    }
  }
  const v4 = addrs.find((a) => a.family === 'IPv4');
  if (!v4) {
    // libuv lists no addresses for an interface that is not up and running, so "down" lands here, not below.
    const state = operstate(iface);
    if (state !== undefined && state !== 'up' && state !== 'unknown') {
      throw new DiscoveryError(`interface ${iface} is ${state}: its addresses cannot be read until it is up; bring it up, or set MYIP and NETMASK`);
    }
    // systeminformation names some interface even when there is no default route: its pick is no proof of one.
    if (guessed !== undefined) throw new DiscoveryError(`${NO_ROUTE} (/proc/net/route is unreadable; ${iface}, the interface guessed instead, has no IPv4 address)`);
    throw new DiscoveryError(`interface ${iface} has no IPv4 address (not configured yet, or DHCP pending?)`);
  }
  const prefix = Number(v4.cidr?.split('/')[1] ?? 32);
  const myip6 = addrs.filter((a) => a.family === 'IPv6' && !a.address.startsWith('fe80')).map((a) => a.address);
  const warnings = operstate(iface) === 'down' ? [`interface ${iface} is down; rules are loaded for ${v4.address}`] : [];
  return { iface, myip: v4.address, prefix, myip6, warnings };
}

/**
 * MYIP/NETMASK as a network ("192.0.2.0/24"): the seed's trusted local subnet. Bit arithmetic (net/addr.ts), not
 * ipaddr.js's CIDR parser, which costs more than the rest of a small ruleset's compile.
 */
export function localSubnet(host: Pick<HostFacts, 'myip' | 'prefix'>): string {
  const net = parseNetwork(`${host.myip}/${host.prefix}`);
  if (net?.family !== 'ipv4') throw new DiscoveryError(`MYIP ${host.myip}/${host.prefix} is not an IPv4 address and prefix`);
  return `${net.network}/${net.prefix}`;
}

/** What discovery says when the host has no default route to read the interface from. */
export const NO_ROUTE = 'no default route; set INTERFACE (or MYIP and NETMASK)';

/**
 * The interface of the first up route to 0.0.0.0/0 in the kernel's table (hex little-endian fields, flag 0x1 =
 * RTF_UP); '' when the table was read and has none, undefined when it cannot be read (no /proc).
 */
export function defaultRoute(procRoute: string): string | undefined {
  let text: string;
  try { text = readFileSync(procRoute, 'utf8'); } catch { return undefined; }
  for (const row of text.split('\n').slice(1)) {
    const [iface, dest, , flags, , , , mask] = row.trim().split(/\s+/);
    if (iface && dest === '00000000' && mask === '00000000' && (parseInt(flags ?? '0', 16) & 1) === 1) return iface;
  }
  return '';
}

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
