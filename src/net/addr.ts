/**
 * The one reading of address text that an admin types, in the config and on the command line: IPv4 only as four
 * decimal numbers 0-255 without leading zeros, inside networks and as the dotted tail of IPv6 text too. inet_aton
 * and ipaddr.js also read "010.1.1.1" (octal: 8.1.1.1), "1.2.3" (1.2.0.3), "10.1" and "0x0a.1.1.1", so the same text
 * would mean one host to whoever reads the config and another to the firewall. This is inet_pton's reading.
 */
import ipaddr from 'ipaddr.js';

/**
 * One regular expression rather than ipaddr's four-part check: ipaddr's check, parse and range() cost ~25 µs an
 * address before the JIT warms up (~250 ms for a 10k-address `ban -` batch); this is ~0.1 µs.
 */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const FOUR_PART_DECIMAL = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** Whether the text is an IPv4 address in four-part dotted decimal, the only IPv4 spelling tsfirewall reads. */
export const isDottedQuad = (text: string): boolean => FOUR_PART_DECIMAL.test(text);

/** fe80::/10 as text: every interface has such an address, so discovery and the loaded record set them apart. */
export const isLinkLocal6 = (text: string): boolean => /^fe[89ab]/i.test(text);

/**
 * IPv6 text, or undefined. A dotted IPv4 tail must be a dotted quad and is read as its 32 bits (ipaddr turns
 * "::1.2.3.4" into ::ffff:1.2.3.4, inet_pton does not). A zone index ("%eth0") is refused: it is not an address.
 */
export function parseIPv6(text: string): ipaddr.IPv6 | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let hex = text;
  if (tail.includes('.')) {
    if (lastColon < 0 || !isDottedQuad(tail)) return undefined;
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  // One parse: ipaddr's isValid() is a parse that throws away its answer (and refuses text without a colon).
  if (!hex.includes(':')) return undefined;
  try {
    return ipaddr.IPv6.parse(hex);
  } catch {
    return undefined;
  }
}

export interface Network {
  readonly family: 'ipv4' | 'ipv6';
  /** The network's own address (host bits cleared), canonical text. */
  readonly network: string;
  readonly prefix: number;
}

/**
 * "ADDRESS" or "ADDRESS/PREFIX" with a strict address and the prefix in plain decimal (no "/024"), host bits cleared
 * as iptables would; a bare address is a /32 or /128. Undefined for anything else.
 */
export function parseNetwork(text: string): Network | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const [address, prefixText] = parts as [string, string | undefined];
  if (prefixText !== undefined && !/^(?:0|[1-9]\d{0,2})$/.test(prefixText)) return undefined;
  if (isDottedQuad(address)) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return undefined;
    const bits = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    const net = (bits & (prefix === 0 ? 0 : ~0 << (32 - prefix))) >>> 0;
    return { family: 'ipv4', network: [24, 16, 8, 0].map((shift) => (net >>> shift) & 255).join('.'), prefix };
  }
  const v6 = parseIPv6(address);
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (!v6 || prefix > 128) return undefined;
  // A host (every interface address discovery reads) is its own network: no mask to apply.
  if (prefix === 128) return { family: 'ipv6', network: v6.toString(), prefix };
  const mask = ipaddr.IPv6.subnetMaskFromPrefixLength(prefix).toByteArray();
  const bytes = v6.toByteArray().map((byte, i) => byte & mask[i]!);
  return { family: 'ipv6', network: ipaddr.fromByteArray(bytes).toString(), prefix };
}
