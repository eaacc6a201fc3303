/**
 * What travels between the hosts of a fleet: one event per ban or unban, on subject
 * tsfw.bans.<origin>.<service>.<address> of stream TSFW_BANS. The address in the subject makes the stream, which
 * keeps one message per subject, a table of the latest word on every (origin, jail, address): a host that comes
 * back replays exactly that (docs/fleet.md, "Catching up"). Decoding is strict and total, never a throw: a
 * receiver counts and logs what it drops and goes on.
 */
import { parseBanAddress } from '../../bans/ip.js';

export const STREAM = 'TSFW_BANS';
export const SUBJECT_ROOT = 'tsfw.bans';

export interface FleetEvent {
  readonly v: 1;
  readonly op: 'ban' | 'unban';
  /** Canonical host address. */
  readonly ip: string;
  /** The service whose jail it is (ssh for tsfw-ssh): jail names are the same on every host. */
  readonly jail: string;
  /** Fleet name of the host that banned it. */
  readonly origin: string;
  /** When it happened there, ms since the epoch. */
  readonly at: number;
  /** ban: when it ends (ms since the epoch), null for a ban until unbanned. */
  readonly expiresAt: number | null;
  /** Who decided it there: fail2ban, ban (the verb), unban, ... (shown, never interpreted). */
  readonly reason: string;
}

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const REASON = /^[A-Za-z0-9 _.:\/-]{0,64}$/;

/** An address as one subject token: IPv4's dots would split it, IPv6 has no '_' to confuse. */
export const ipToken = (ip: string) => ip.replaceAll('.', '_');
export const tokenIp = (token: string) => (token.includes(':') ? token : token.replaceAll('_', '.'));

export const subjectOf = (e: Pick<FleetEvent, 'origin' | 'jail' | 'ip'>) => `${SUBJECT_ROOT}.${e.origin}.${e.jail}.${ipToken(e.ip)}`;
/** What a host may publish on: its own subtree, and nothing else (the server config enforces the same). */
export const ownSubjects = (origin: string) => `${SUBJECT_ROOT}.${origin}.>`;

export type Decoded = { readonly ok: true; readonly event: FleetEvent } | { readonly ok: false; readonly reason: 'malformed' | 'origin-mismatch'; readonly detail: string };

const bad = (detail: string): Decoded => ({ ok: false, reason: 'malformed', detail });

/** Subject and payload must agree: the server vouches for the subject (per-host publish rights), not the body. */
export function decodeEvent(subject: string, data: Uint8Array | string): Decoded {
  const parts = subject.split('.');
  if (parts.length !== 5 || `${parts[0]}.${parts[1]}` !== SUBJECT_ROOT) return bad(`subject ${JSON.stringify(subject.slice(0, 120))} is not ${SUBJECT_ROOT}.HOST.JAIL.ADDRESS`);
  const [, , host, jail, token] = parts as [string, string, string, string, string];
  if (!TOKEN.test(host) || !TOKEN.test(jail)) return bad(`subject ${JSON.stringify(subject.slice(0, 120))} has a bad host or jail`);
  let body: unknown;
  try {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    if (text.length > 1024) return bad(`${text.length} bytes: events are small`);
    body = JSON.parse(text);
  } catch (err) {
    return bad(`not JSON: ${(err as Error).message.slice(0, 80)}`);
  }
  const b = body as Record<string, unknown>;
  if (typeof b !== 'object' || b === null || b.v !== 1) return bad('not a version 1 event');
  if (b.op !== 'ban' && b.op !== 'unban') return bad(`op ${JSON.stringify(b.op)}`);
  const addr = typeof b.ip === 'string' ? parseBanAddress(b.ip) : undefined;
  if (!addr || addr.ip !== b.ip) return bad(`ip ${JSON.stringify(b.ip)} is not one canonical host address`);
  if (ipToken(addr.ip) !== token) return bad(`the subject names ${tokenIp(token)}, the event ${addr.ip}`);
  if (b.jail !== jail) return bad(`the subject names jail ${jail}, the event ${JSON.stringify(b.jail)}`);
  if (typeof b.at !== 'number' || !Number.isFinite(b.at) || b.at <= 0) return bad('no time');
  if (b.op === 'ban' && b.expiresAt !== null && (typeof b.expiresAt !== 'number' || !Number.isFinite(b.expiresAt))) return bad('bad expiry');
  if (typeof b.reason !== 'string' || !REASON.test(b.reason)) return bad('bad reason');
  if (b.origin !== host) {
    return { ok: false, reason: 'origin-mismatch', detail: `published under ${host}'s subject but says it comes from ${JSON.stringify(b.origin).slice(0, 70)}` };
  }
  return {
    ok: true,
    event: { v: 1, op: b.op, ip: addr.ip, jail, origin: host, at: b.at, expiresAt: b.op === 'ban' ? (b.expiresAt as number | null) : null, reason: b.reason },
  };
}

export const encodeEvent = (e: FleetEvent) => JSON.stringify(e);
