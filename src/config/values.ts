/**
 * Value parsers for config keys. Each returns the parsed value or throws a ValueError whose message says what
 * was expected; load.ts attaches the key and line. Values are whitelisted by shape, so nothing a user writes
 * can smuggle shell or iptables syntax into a rule.
 */
import ipaddr from 'ipaddr.js';
import { isDottedQuad, parseNetwork } from '../net/addr.js';
import { quoted } from './quote.js';
import type { LogRate } from './types.js';

export class ValueError extends Error {}

const fail = (msg: string): never => { throw new ValueError(msg); };

/** Items separated by commas and/or blanks: "a, b c" -> [a, b, c]. */
export function list(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((s) => s.length > 0);
}

export function bool(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(v)) return true;
  if (['no', 'false', '0', 'off'].includes(v)) return false;
  return fail(`expected yes or no, got ${quoted(raw)}`);
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    const v = raw.trim().toLowerCase() as T;
    return choices.includes(v) ? v : fail(`expected one of ${choices.join(', ')}, got ${quoted(raw)}`);
  };
}

/** Linux IFNAMSIZ is 16 including the NUL; iptables also accepts a trailing + wildcard, which we do not. */
export function ifaceName(raw: string): string {
  const v = raw.trim();
  return /^[A-Za-z0-9_.@:-]{1,15}$/.test(v) && v !== '.' && v !== '..'
    ? v
    : fail(`expected an interface name (1-15 letters, digits, _ . - @ :), got ${quoted(raw)}`);
}

/**
 * A device name as the kernel and iptables' -i/-o know it. Unlike INTERFACE (where an ifconfig alias label such
 * as eth0:1 still finds its address), a ':' here would give a rule that silently never matches.
 */
export function netdevName(raw: string): string {
  const v = ifaceName(raw);
  return v.includes(':') ? fail(`expected a network device name without ":" (alias labels like eth0:1 are not devices), got ${quoted(raw)}`) : v;
}

/** Service names become part of SERVICE_<NAME>_* keys, so they are what such a key can spell: a letter, then letters or digits. */
export function serviceName(raw: string): string {
  const v = raw.trim();
  return /^[A-Za-z][A-Za-z0-9]{0,15}$/.test(v)
    ? v
    : fail(`expected a service name: a letter, then up to 15 letters or digits (it is spelled into SERVICE_<NAME>_* keys), got ${quoted(raw)}`);
}

/** A list that must not be empty: an empty PORTS or FROM would silently mean "no rule" or "the whole world". */
export function nonEmpty<T>(parse: (raw: string) => T[], what: string) {
  return (raw: string): T[] => {
    const items = parse(raw);
    return items.length > 0 ? items : fail(`expected at least one ${what}, got an empty value`);
  };
}

/** What every IPv4 message says, since "010.1.1.1" and "10.1" are addresses to other tools (8.1.1.1, 10.0.0.1). */
const STRICT_IPV4 = 'IPv4 as four decimal numbers 0-255 without leading zeros';

/** A host address or a network, IPv4 or IPv6; always returned in "addr/prefix" form, host bits cleared. */
export function cidr(raw: string): string {
  const v = raw.trim();
  // ipaddr reads "fe80::1%eth0" as an address; iptables cannot (a zone names a link, and a rule matches addresses).
  if (v.includes('%')) {
    return fail(`expected an IP address or network without a zone index (a "%..." names a link, which a firewall rule cannot match), got ${quoted(raw)}`);
  }
  const net = parseNetwork(v);
  return net
    ? `${net.network}/${net.prefix}`
    : fail(`expected an IP address or network like 192.0.2.0/24 or 2001:db8::/32 (${STRICT_IPV4}, the prefix length in plain decimal), got ${quoted(raw)}`);
}

export function ipv4Address(raw: string): string {
  const v = raw.trim();
  return isDottedQuad(v) ? v : fail(`expected an IPv4 address like 192.0.2.10 (${STRICT_IPV4}), got ${quoted(raw)}`);
}

/** Dotted netmask (255.255.255.0) or prefix length (24), as the seed's NETMASK may be either. */
export function netmask(raw: string): number {
  const v = raw.trim();
  if (/^(?:0|[1-9]\d?)$/.test(v) && Number(v) <= 32) return Number(v);
  const bits = isDottedQuad(v) ? ipaddr.IPv4.parse(v).prefixLengthFromSubnetMask() : null;
  return bits ?? fail(`expected a netmask like 255.255.255.0 (${STRICT_IPV4}) or a prefix length 0-32 in plain decimal, got ${quoted(raw)}`);
}

export function integer(min: number, max: number) {
  return (raw: string): number => {
    const v = raw.trim();
    return /^\d{1,10}$/.test(v) && Number(v) >= min && Number(v) <= max
      ? Number(v)
      : fail(`expected a whole number from ${min} to ${max}, got ${quoted(raw)}`);
  };
}

const PORT_NAMES: Readonly<Record<string, number>> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, http: 80, pop3: 110, imap: 143, https: 443,
  submission: 587, imaps: 993, pop3s: 995, smtps: 465,
};

function portNumber(raw: string): number {
  const named = PORT_NAMES[raw.toLowerCase()];
  if (named !== undefined) return named;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  return n >= 1 && n <= 65535 ? n : fail(`expected a port 1-65535 or a service name, got ${quoted(raw)}`);
}

/** "22", "ssh", "6000-6010" or "6000:6010"; ranges come back in iptables' "lo:hi" form. */
export function port(raw: string): string {
  const range = /^([^:-]+)[:-]([^:-]+)$/.exec(raw);
  if (!range) return String(portNumber(raw));
  const lo = portNumber(range[1]!);
  const hi = portNumber(range[2]!);
  return lo < hi ? `${lo}:${hi}` : fail(`port range ${quoted(raw)} must go from low to high`);
}

/** "3/180" or "3/180s": at most HITCOUNT new connections per source in SECONDS; "no" turns it off. */
export function rateLimit(raw: string): { hitcount: number; seconds: number } | undefined {
  const v = raw.trim().toLowerCase();
  if (['no', 'off', 'none', ''].includes(v)) return undefined;
  const m = /^(\d{1,3})\s*\/\s*(\d{1,7})s?$/.exec(v);
  // xt_recent keeps 20 timestamps per source by default (ip_pkt_list_tot); a larger hitcount never matches there,
  // and a limit must mean the same on every backend.
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 20 || Number(m[2]) < 1) {
    return fail(`expected HITS/SECONDS like 3/180 (hits 1-20, seconds >= 1) or "no", got ${quoted(raw)}`);
  }
  return { hitcount: Number(m[1]), seconds: Number(m[2]) };
}

/** ufw's "logging low": a few lines a minute, so a flood cannot fill the disk through the kernel log. */
const LOG_RATE_DEFAULT: LogRate = { rate: '3/minute', burst: 10 };
const LOG_RATE_UNITS: Readonly<Record<string, string>> = {
  s: 'second', sec: 'second', second: 'second', m: 'minute', min: 'minute', minute: 'minute',
  h: 'hour', hour: 'hour', d: 'day', day: 'day',
};

/** "no", "yes" (3/minute) or "N/UNIT": how many dropped packets a minute (hour...) the kernel log gets. */
export function logRate(raw: string): LogRate | undefined {
  const v = raw.trim().toLowerCase();
  if (['no', 'off', 'false', '0', ''].includes(v)) return undefined;
  if (['yes', 'on', 'true', '1'].includes(v)) return LOG_RATE_DEFAULT;
  const m = /^(\d{1,5})\s*\/\s*([a-z]+)$/.exec(v);
  const unit = m ? LOG_RATE_UNITS[m[2]!] : undefined;
  // xt_limit refuses more than 10000 a second; per second above that the log is a flood anyway.
  if (!m || !unit || Number(m[1]) < 1 || Number(m[1]) > 10_000) {
    return fail(`expected yes, no or a rate like 3/minute (1-10000 per second, minute, hour or day), got ${quoted(raw)}`);
  }
  return { rate: `${Number(m[1])}/${unit}`, burst: LOG_RATE_DEFAULT.burst };
}

/** Names that become chain, set or /proc file names: short, and safe in every one of those places. */
export function token(maxLen: number) {
  return (raw: string): string => {
    const v = raw.trim();
    return new RegExp(`^[A-Za-z0-9_-]{1,${maxLen}}$`).test(v)
      ? v
      : fail(`expected 1-${maxLen} letters, digits, _ or -, got ${quoted(raw)}`);
  };
}

/**
 * A LOG prefix: the kernel keeps 29 characters and the renderer adds a space to part it from the packet fields, so
 * 28 are ours (a 29th would silently push the space out). Quotes and backslashes would need escaping: refused.
 */
export function logPrefix(raw: string): string {
  const v = raw.replace(/^\s+/, '');
  return /^[A-Za-z0-9 _:.,=#@/+-]{1,28}$/.test(v)
    ? v
    : fail(`expected up to 28 letters, digits, spaces or _ : . , = # @ / + -, got ${quoted(raw)}`);
}

/** Kernel module names; modprobe gets them as argv, never through a shell, and a leading "-" would be an option. */
export function moduleName(raw: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_-]{0,55}$/.test(raw)
    ? raw
    : fail(`expected a kernel module name (1-56 letters, digits, _ or -, not starting with -), got ${quoted(raw)}`);
}

/** fail2ban log paths: absolute, globs allowed, nothing that needs quoting. */
export function logPath(raw: string): string {
  const v = raw.trim();
  return /^\/[A-Za-z0-9_.\/*+@-]{1,255}$/.test(v) && !v.split('/').includes('..')
    ? v
    : fail(`expected an absolute log file path (globs allowed), got ${quoted(raw)}`);
}

/**
 * A local account name (MAILGUARD_ACCOUNT): the portable POSIX/Debian shape, so it is safe as a useradd argument,
 * a Postfix luser_relay value and a mailbox file name. Accounts that already receive important mail are refused.
 */
export function accountName(raw: string): string {
  const v = raw.trim();
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) {
    return fail(`expected an account name (1-32 lower-case letters, digits, _ or -, not starting with a digit or -), got ${quoted(raw)}`);
  }
  return RESERVED_ACCOUNTS.includes(v) ? fail(`${quoted(v)} already receives real mail; choose a dedicated account`) : v;
}

const RESERVED_ACCOUNTS: readonly string[] = ['root', 'postmaster', 'postfix', 'mailer-daemon', 'abuse', 'nobody', 'mail'];

/**
 * Where a blocklist is fetched from: http or https only, no credentials in it (the URL is printed in messages and
 * kept in the state directory), printable ASCII without blanks.
 */
export function blocklistUrl(raw: string): string {
  const v = raw.trim();
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return fail(`expected an http:// or https:// URL, got ${quoted(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`expected an http:// or https:// URL, got ${quoted(raw)}`);
  if (url.username !== '' || url.password !== '') return fail('a blocklist URL must not carry a user or password (it is printed in messages)');
  return /^[\x21-\x7e]+$/.test(v) ? v : fail(`expected a URL of printable characters without blanks, got ${quoted(raw)}`);
}

/** A local file tsfirewall reads (a blocklist): absolute, no globs, nothing that needs quoting. */
export function filePath(raw: string): string {
  const v = raw.trim();
  return /^\/[A-Za-z0-9_.\/+@-]{1,255}$/.test(v) && !v.split('/').includes('..') && !v.endsWith('/')
    ? v
    : fail(`expected an absolute file path, got ${quoted(raw)}`);
}
