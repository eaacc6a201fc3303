/**
 * The kernel's own list of TCP sockets (/proc/net/tcp and tcp6), read as text: the lock-out guard must see every
 * live SSH session, and the environment (SSH_CONNECTION) is gone under sudo's env_reset, systemctl reload and the
 * address watcher. Pure: the text comes in, sockets and sessions come out, so unit tests run on captured text.
 */
import ipaddr from 'ipaddr.js';
import { endianness } from 'node:os';

export interface Endpoint { readonly ip: string; readonly port: number }

export interface TcpSocket {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** The kernel's TCP state number: 0x01 ESTABLISHED, 0x0A LISTEN (include/net/tcp_states.h). */
  readonly state: number;
  readonly inode: number;
}

export const TCP_ESTABLISHED = 0x01;
export const TCP_LISTEN = 0x0a;

/** An established connection to one of sshd's listening sockets, seen from the server's side. */
export interface KernelSession {
  readonly client: string;
  readonly clientPort: number;
  readonly server: string;
  readonly serverPort: number;
  readonly inode: number;
}

/**
 * One /proc/net/tcp{,6} table. Addresses are the kernel's __be32 words printed as host-order integers (%08X), so
 * on a little-endian host each word's bytes come out reversed; ports are already in host order. IPv4-mapped IPv6
 * addresses (a dual-stack listener's IPv4 clients) come back as plain IPv4.
 */
export function parseProcNetTcp(text: string, order: 'LE' | 'BE' = endianness()): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = endpoint(f[1]!, order);
    const remote = endpoint(f[2]!, order);
    const state = parseInt(f[3]!, 16);
    const inode = Number(f[9]);
    if (local && remote && Number.isInteger(state) && Number.isInteger(inode)) out.push({ local, remote, state, inode });
  }
  return out;
}

function endpoint(field: string, order: 'LE' | 'BE'): Endpoint | undefined {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(field);
  if (!m) return undefined;
  const hex = m[1]!;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(order === 'LE' ? word.reverse() : word));
  }
  return { ip: normalise(ipaddr.fromByteArray(bytes)), port: parseInt(m[2]!, 16) };
}

function normalise(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address().toString() : addr.toString();
}

const WILDCARD = new Set(['0.0.0.0', '::']);

/**
 * Pure: the established connections to the listening sockets whose inodes are sshd's. A connection belongs to a
 * listener on the same port whose address is its local one or the wildcard (a dual-stack "::" also takes IPv4).
 */
export function sessionsOn(sockets: readonly TcpSocket[], listenerInodes: ReadonlySet<number>): KernelSession[] {
  const listeners = sockets.filter((s) => s.state === TCP_LISTEN && listenerInodes.has(s.inode)).map((s) => s.local);
  return sockets
    .filter((s) => s.state === TCP_ESTABLISHED && listeners.some((l) => l.port === s.local.port && (l.ip === s.local.ip || WILDCARD.has(l.ip))))
    .map((s) => ({ client: s.remote.ip, clientPort: s.remote.port, server: s.local.ip, serverPort: s.local.port, inode: s.inode }));
}

/**
 * Whether an sshd process title says its connection is past authentication. OpenSSH titles a logged-in session
 * "sshd: USER@TTY" (or "@notty"; "sshd-session: ..." from 9.8); before that only "[accepted]", "[net]", "[priv]"
 * or "[preauth]", with the user named only when the account exists. A connection nobody has logged in on may be an
 * attacker's: it must never count as the admin (ban refusal, fail2ban's ignoreip).
 */
export function isLoggedInTitle(cmdline: string): boolean {
  return /^sshd(?:-session)?: [^\s@[\]]+@\S+/.test(cmdline.replace(/\0/g, ' ').trim());
}
