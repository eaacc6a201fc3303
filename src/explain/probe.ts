/**
 * explain's packet from its command line, checked option by option: a bad one exits 2 naming the option and what
 * it takes, before anything is read. Pure.
 */
import { UsageError } from '../errors.js';
import { isDottedQuad, parseIPv6 } from '../net/addr.js';
import type { Probe } from '../safety/packet-match.js';

export interface PacketOptions {
  readonly src?: string;
  readonly dst?: string;
  readonly proto?: string;
  readonly dport?: string;
  readonly iface?: string;
  readonly state?: string;
}

const PROTOS = ['tcp', 'udp', 'icmp'] as const;
const STATES: Readonly<Record<string, Probe['state']>> = { new: 'NEW', established: 'ESTABLISHED' };
/** What the kernel takes as an interface name (IFNAMSIZ), or a prefix pattern ending in + or *. */
const IFACE = /^[A-Za-z0-9_.@:-]{1,15}[+*]?$/;

const familyOfText = (ip: string) => (isDottedQuad(ip) ? 'IPv4' : parseIPv6(ip) ? 'IPv6' : undefined);

function address(option: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ip = text.trim();
  if (!familyOfText(ip)) throw new UsageError(`--${option} expects an IPv4 or IPv6 address, got "${text}"`);
  return ip.toLowerCase();
}

export function parseProbe(o: PacketOptions): Probe {
  if (o.src === undefined) throw new UsageError('explain needs --src IP (and --proto tcp|udp|icmp)');
  const src = address('src', o.src)!;
  const dst = address('dst', o.dst);
  if (dst !== undefined && familyOfText(dst) !== familyOfText(src)) {
    throw new UsageError(`--dst ${dst} is ${familyOfText(dst)} but --src ${src} is ${familyOfText(src)}`);
  }
  if (o.proto === undefined) throw new UsageError('explain needs --proto tcp|udp|icmp');
  const proto = PROTOS.find((p) => p === o.proto!.trim().toLowerCase());
  if (!proto) throw new UsageError(`--proto expects tcp, udp or icmp, got "${o.proto}"`);
  let dport: number | undefined;
  if (proto === 'icmp') {
    if (o.dport !== undefined) throw new UsageError('--dport goes with --proto tcp or udp, not icmp');
  } else {
    if (o.dport === undefined) throw new UsageError(`--proto ${proto} needs --dport N (1-65535)`);
    if (!/^\d{1,5}$/.test(o.dport.trim()) || Number(o.dport) < 1 || Number(o.dport) > 65535) {
      throw new UsageError(`--dport expects a port number from 1 to 65535, got "${o.dport}"`);
    }
    dport = Number(o.dport);
  }
  if (o.iface !== undefined && !IFACE.test(o.iface)) throw new UsageError(`--iface expects an interface name, got "${o.iface}"`);
  const state = o.state === undefined ? 'NEW' : STATES[o.state.trim().toLowerCase()];
  if (!state) throw new UsageError(`--state expects new or established, got "${o.state}"`);
  return { src, ...(dst === undefined ? {} : { dst }), proto, ...(dport === undefined ? {} : { dport }), ...(o.iface ? { iface: o.iface } : {}), state };
}

/** The host's side of the packet: its addresses (every interface's), and the one its rules were made for. */
export interface HostSide {
  readonly local: readonly string[];
  /** The broadcast addresses of its IPv4 subnets. */
  readonly broadcasts: readonly string[];
  /** MYIP (or an IPv6 address of the interface) the loaded rules were made for, per family. */
  readonly myip: Readonly<Partial<Record<'ipv4' | 'ipv6', string>>>;
}

const isLocal = (ip: string, host: HostSide) => host.local.includes(ip) || /^127\./.test(ip) || ip === '::1';

/**
 * The packet as the kernel would see it: sent to MYIP unless --dst says otherwise, and coming in on lo when it comes
 * from one of this host's own addresses (the kernel routes those through loopback).
 */
export function completeProbe(p: Probe, host: HostSide): Probe {
  const family = isDottedQuad(p.src) ? 'ipv4' : 'ipv6';
  const dst = p.dst ?? host.myip[family];
  const iface = p.iface ?? (isLocal(p.src, host) ? 'lo' : undefined);
  return { ...p, ...(dst === undefined ? {} : { dst }), ...(iface === undefined ? {} : { iface }) };
}

/** input for a packet to this host (or to a broadcast or multicast address it hears), forward for any other. */
export function hookOf(p: Probe, host: HostSide): 'input' | 'forward' {
  if (p.dst === undefined || isLocal(p.dst, host)) return 'input';
  const multicast = /^(22[4-9]|23\d)\./.test(p.dst) || /^ff/i.test(p.dst);
  return multicast || p.dst === '255.255.255.255' || host.broadcasts.includes(p.dst) ? 'input' : 'forward';
}

/** The broadcast address of an IPv4 interface address with its prefix ("192.0.2.10/24" -> 192.0.2.255). */
export function broadcastOf(cidr: string): string | undefined {
  const [ip, len] = cidr.split('/');
  if (!isDottedQuad(ip ?? '') || len === undefined) return undefined;
  const bits = ip!.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const host = Number(len) >= 32 ? 0 : 2 ** (32 - Number(len)) - 1;
  const b = (bits | host) >>> 0;
  return [24, 16, 8, 0].map((shift) => (b >>> shift) & 255).join('.');
}
