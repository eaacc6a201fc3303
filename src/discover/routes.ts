/**
 * The kernel's main routing tables as /proc prints them (/proc/net/route for IPv4, /proc/net/ipv6_route for IPv6):
 * read, never asked of a program, so discovery and the lock-out guard stay off the process-spawning path. Used to
 * find the interface of the default route (MYIP's, or MYIP6's on a host with IPv6 only) and the interface a
 * remote address is reached by, which with symmetric routing is the one its packets arrive on.
 */
import { readFileSync } from 'node:fs';
import { isDottedQuad, parseIPv6 } from '../net/addr.js';

export interface RouteFiles { readonly route4?: string; readonly route6?: string }

interface Route {
  readonly iface: string;
  /** The destination network's bits and prefix length; IPv4 in the low 32 bits of the bigint. */
  readonly net: bigint;
  readonly len: number;
  readonly metric: number;
}

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

const read = (path: string): string | undefined => { try { return readFileSync(path, 'utf8'); } catch { return undefined; } };

/** /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask..., addresses in little-endian hex. */
function routes4(text: string): Route[] {
  const out: Route[] = [];
  for (const row of text.split('\n').slice(1)) {
    const [iface, dest, , flags, , , metric, mask] = row.trim().split(/\s+/);
    if (!iface || dest === undefined || mask === undefined || (parseInt(flags ?? '0', 16) & RTF_UP) === 0) continue;
    const m = BigInt(swap32(parseInt(mask, 16)));
    let len = 0;
    for (let bit = 31n; bit >= 0n && (m >> bit) & 1n; bit--) len++;
    out.push({ iface, net: BigInt(swap32(parseInt(dest, 16))), len, metric: Number(metric ?? 0) });
  }
  return out;
}

/** The kernel writes IPv4 addresses in host (little-endian) order: 0100A8C0 is 192.168.0.1. */
const swap32 = (n: number) => (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;

/** /proc/net/ipv6_route: dest len src len nexthop metric refcnt use flags iface, all in big-endian hex. */
function routes6(text: string): Route[] {
  const out: Route[] = [];
  for (const row of text.split('\n')) {
    const [dest, len, , , , metric, , , flags, iface] = row.trim().split(/\s+/);
    const f = parseInt(flags ?? '0', 16);
    if (!iface || !dest || !len || (f & RTF_UP) === 0 || (f & RTF_REJECT) !== 0 || iface === 'lo') continue;
    out.push({ iface, net: BigInt(`0x${dest}`), len: parseInt(len, 16), metric: parseInt(metric ?? '0', 16) });
  }
  return out;
}

function tableFor(ip: string, files: RouteFiles): { routes: Route[]; bits: number; value: bigint } | undefined {
  if (isDottedQuad(ip)) {
    const text = read(files.route4 ?? '/proc/net/route');
    const value = ip.split('.').reduce((n, octet) => (n << 8n) | BigInt(octet), 0n);
    return text === undefined ? undefined : { routes: routes4(text), bits: 32, value };
  }
  const v6 = parseIPv6(ip);
  const text = read(files.route6 ?? '/proc/net/ipv6_route');
  if (!v6 || text === undefined) return undefined;
  return { routes: routes6(text), bits: 128, value: v6.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n) };
}

/** The interface the kernel's main table sends `ip` to: the longest matching prefix, then the lowest metric. */
export function routeIface(ip: string, files: RouteFiles = {}): string | undefined {
  const table = tableFor(ip, files);
  if (!table) return undefined;
  let best: Route | undefined;
  for (const r of table.routes) {
    const shift = BigInt(table.bits - r.len);
    if (table.value >> shift !== r.net >> shift) continue;
    if (!best || r.len > best.len || (r.len === best.len && r.metric < best.metric)) best = r;
  }
  return best?.iface;
}

/**
 * The interface of the default route, IPv4's first (the seed's MYIP), else IPv6's (a host with IPv6 only);
 * `unreadable` when there is no IPv4 route table to read (no /proc), which is not the same as no default route.
 */
export function defaultRouteIfaces(files: RouteFiles = {}): { readonly ipv4?: string; readonly ipv6?: string; readonly unreadable?: true } {
  const pick = (routes: Route[]) => routes.filter((r) => r.len === 0 && r.net === 0n).sort((a, b) => a.metric - b.metric)[0]?.iface;
  const text4 = read(files.route4 ?? '/proc/net/route');
  const text6 = read(files.route6 ?? '/proc/net/ipv6_route');
  const ipv4 = text4 === undefined ? undefined : pick(routes4(text4));
  const ipv6 = text6 === undefined ? undefined : pick(routes6(text6));
  return { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), ...(text4 === undefined ? { unreadable: true as const } : {}) };
}
