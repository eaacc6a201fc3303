import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { fail2banFleetAction, OUTBOX_MAX, parseOutbox, pendingFiles, queueLines } from '../../../../src/bans/outbox.js';
import { jailsOf } from '../../../../src/bans/jails.js';
import { parseConfig } from '../../../../src/config/load.js';
import { guardFor } from '../../../../src/safety/ban-guard.js';
import { credsKind } from '../../../../src/services/fleet/connect.js';
import { decodeEvent, encodeEvent, subjectOf, type FleetEvent } from '../../../../src/services/fleet/event.js';
import { judge, OriginRate, type JudgeFacts } from '../../../../src/services/fleet/judge.js';
import { planBatch } from '../../../../src/services/fleet/kernel.js';
import { Ledger } from '../../../../src/services/fleet/ledger.js';
import { eventOf } from '../../../../src/services/fleet/publisher.js';
import { formatStatus, newStatus } from '../../../../src/services/fleet/status.js';

const NOW = 1_800_000_000_000;
const base = 'FAIL2BAN=no\nBAN_MODE=ipset\nFLEET_SERVERS=nats://192.0.2.41\nFLEET_NAME=hostB\n';
const config = (extra = '') => parseConfig(base + extra).config;
const ev = (o: Partial<FleetEvent> = {}): FleetEvent => ({ v: 1, op: 'ban', ip: '198.51.100.7', jail: 'ssh', origin: 'hostA', at: NOW, expiresAt: NOW + 600_000, reason: 'fail2ban', ...o });

describe('config', () => {
  test('the fleet keys become one FleetConfig, off without servers', () => {
    expect(parseConfig('').config.fleet).toBeUndefined();
    expect(config().fleet).toEqual({ servers: ['nats://192.0.2.41:4222'], name: 'hostB', jails: 'all', acceptFrom: 'all', originMax: 100_000, originRate: { count: 20_000, seconds: 60 } });
    expect(config('FLEET_JAILS=tsfw-ssh\nFLEET_ACCEPT_FROM=hostA,hostC\n').fleet).toMatchObject({ jails: ['ssh'], acceptFrom: ['hostA', 'hostC'] });
  });

  test.each([
    ['FLEET_SERVERS=http://192.0.2.41', /FLEET_SERVERS.*expected nats:\/\/HOST\[:PORT\] or tls:\/\/HOST\[:PORT\]/],
    ['FLEET_SERVERS=nats://u:p@192.0.2.41', /carries credentials/],
    ['FLEET_SERVERS=nats://192.0.2.41:0', /port 1-65535/],
    ['FLEET_SERVERS=nats://010.0.2.41', /host name or IP address/],
    ['FLEET_NAME=host.a', /FLEET_NAME.*subject token/],
    ['FLEET_CREDS=relative/creds', /FLEET_CREDS.*absolute file path/],
    ['FLEET_JAILS=ftp', /FLEET_JAILS.*"ftp" is no jail of this host/],
    ['FLEET_SERVERS=tls://192.0.2.41', /FLEET_TLS_CA.*needs the CA/],
    ['FLEET_ORIGIN_RATE=fast', /FLEET_ORIGIN_RATE.*BANS\/SECONDS/],
  ])('%s is refused', (line, message) => {
    expect(() => parseConfig(`${base}${line}\n`)).toThrow(message);
  });

  test('a credentials file is told by its text', () => {
    expect(credsKind('-----BEGIN NATS USER JWT-----\neyJ...\n')).toBe('creds');
    expect(credsKind(`SU${'A'.repeat(56)}\n`)).toBe('nkey');
    expect(credsKind('hostA:secret\n')).toBe('userpass');
    expect(credsKind('nonsense\n')).toBeUndefined();
  });
});

describe('events', () => {
  test('subject and body must agree; garbage and lies are told apart, never thrown', () => {
    const e = ev();
    expect(subjectOf(e)).toBe('tsfw.bans.hostA.ssh.198_51_100_7');
    expect(decodeEvent(subjectOf(e), encodeEvent(e))).toEqual({ ok: true, event: e });
    expect(decodeEvent(subjectOf(e), encodeEvent({ ...e, origin: 'hostB' }))).toMatchObject({ ok: false, reason: 'origin-mismatch' });
    expect(decodeEvent('tsfw.bans.hostA.ssh.198_51_100_8', encodeEvent(e))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeEvent(subjectOf(e), '{"v":1,')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeEvent(subjectOf(e), encodeEvent({ ...e, ip: '198.51.100.0/24' }))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeEvent(subjectOf(e), 'x'.repeat(5000))).toMatchObject({ ok: false, reason: 'malformed' });
    const v6 = ev({ ip: '2001:db8::7' });
    expect(subjectOf(v6)).toBe('tsfw.bans.hostA.ssh.2001:db8::7');
    expect(decodeEvent(subjectOf(v6), encodeEvent(v6))).toMatchObject({ ok: true });
  });

  test('an outbox line becomes an event: seconds to ms, fail2ban\'s -1 is a ban until unbanned, an unban dated when queued', () => {
    expect(eventOf({ op: 'ban', jail: 'ssh', ip: '198.51.100.7', at: 1_800_000_000.5, bantime: 600, reason: 'fail2ban' }, 'hostA', 0))
      .toMatchObject({ at: 1_800_000_000_500, expiresAt: 1_800_000_600_500, origin: 'hostA' });
    expect(eventOf({ op: 'ban', jail: 'ssh', ip: '198.51.100.7', at: 1_800_000_000, bantime: -1, reason: 'fail2ban' }, 'hostA', 0).expiresAt).toBeNull();
    expect(eventOf({ op: 'unban', jail: 'ssh', ip: '198.51.100.7', at: 1_800_000_000, reason: 'fail2ban' }, 'hostA', NOW + 5).at).toBe(NOW + 5);
  });
});

describe('judge', () => {
  const facts = (o: Partial<JudgeFacts> = {}, extra = 'TRUSTED_NETS=203.0.113.0/24\n'): JudgeFacts => {
    const c = config(extra);
    return {
      self: 'hostB', fleet: c.fleet!, jails: new Map(jailsOf(c).map((j) => [j.service.name, j])), ledger: new Ledger(), rate: new OriginRate({ count: 3, seconds: 60 }), now: NOW,
      guard: guardFor({ sessions: [{ client: '198.51.100.20', clientPort: 40000, server: '192.0.2.12', serverPort: 22 }], adminSources: ['198.51.100.21'],
        hostAddresses: [{ iface: 'eth0', address: '192.0.2.12', cidr: '192.0.2.12/24' }], trusted: [{ net: '203.0.113.0/24', key: 'TRUSTED_NETS' }] }),
      ...o,
    };
  };
  test('a remote ban is applied with its end; the own host\'s events are skipped', () => {
    expect(judge(ev(), NOW, facts())).toMatchObject({ kind: 'ban', ip: '198.51.100.7', end: NOW + 600_000, changed: true });
    expect(judge(ev({ origin: 'hostB' }), NOW, facts())).toEqual({ kind: 'skip', why: 'own' });
  });
  test.each([
    ['203.0.113.5', 'trusted'], ['192.0.2.12', 'own-address'], ['198.51.100.20', 'admin-session'], ['198.51.100.21', 'admin-source'],
    ['127.0.0.1', 'loopback'], ['192.0.2.255', 'broadcast'],
  ])('a ban of %s is refused: %s', (ip, why) => {
    expect(judge(ev({ ip }), NOW, facts())).toMatchObject({ kind: 'refuse', why });
  });
  test('expired bans are skipped; hosts not accepted and jails not shared are refused', () => {
    expect(judge(ev({ expiresAt: NOW - 1 }), NOW, facts())).toEqual({ kind: 'skip', why: 'expired' });
    expect(judge(ev(), NOW, facts({}, 'FLEET_ACCEPT_FROM=hostC\n'))).toMatchObject({ kind: 'refuse', why: 'not-accepted' });
    expect(judge(ev({ jail: 'ftp' }), NOW, facts())).toMatchObject({ kind: 'refuse', why: 'jail-not-shared' });
    expect(judge(ev({ ip: '2001:db8::7' }), NOW, facts())).toMatchObject({ kind: 'refuse', why: 'family' });
  });
  test('each origin is rate-limited by the stream\'s clock and capped', () => {
    const f = facts();
    const verdicts = [1, 2, 3, 4].map((i) => judge(ev({ ip: `198.51.100.${i}` }), NOW, f).kind);
    expect(verdicts).toEqual(['ban', 'ban', 'ban', 'refuse']);
    // A minute later (by the engine's timestamps) the bucket is full again.
    expect(judge(ev({ ip: '198.51.100.5' }), NOW + 60_000, f).kind).toBe('ban');
    const capped = facts({ fleet: { acceptFrom: 'all', originMax: 1 } });
    expect(judge(ev({ ip: '198.51.100.1' }), NOW, capped).kind).toBe('ban');
    expect(judge(ev({ ip: '198.51.100.2' }), NOW, capped)).toMatchObject({ kind: 'refuse', why: 'cap' });
  });
  test('an unban withdraws only its origin\'s ban; an address lifted here stays lifted against older bans', () => {
    const f = facts();
    judge(ev(), NOW, f);
    judge(ev({ origin: 'hostC' }), NOW, f);
    expect(judge(ev({ op: 'unban', expiresAt: null }), NOW, f)).toMatchObject({ kind: 'unban', remove: false });
    expect(judge(ev({ op: 'unban', origin: 'hostC', expiresAt: null }), NOW, f)).toMatchObject({ kind: 'unban', remove: true });
    f.ledger.liftHere('ssh', '198.51.100.9', NOW + 10);
    expect(judge(ev({ ip: '198.51.100.9' }), NOW, f)).toEqual({ kind: 'skip', why: 'lifted-here' });
    expect(judge(ev({ ip: '198.51.100.9', at: NOW + 20 }), NOW, f)).toMatchObject({ kind: 'ban' });
  });
});

describe('kernel batches', () => {
  test('a burst becomes one add per set and time left (rounded up by at most 2%), the last word per address winning', () => {
    const c = config();
    const jail = jailsOf(c)[0]!;
    const ban = (ip: string, end: number | null) => ({ kind: 'ban' as const, jail, family: 'ipv4' as const, ip, end, changed: true });
    const batch = planBatch([ban('198.51.100.1', NOW + 600_000), ban('198.51.100.2', NOW + 599_000), ban('198.51.100.3', null),
      ban('198.51.100.4', NOW + 600_000), { kind: 'unban', jail, family: 'ipv4', ip: '198.51.100.4', remove: true }], NOW);
    expect(batch.adds.map((a) => [a.ips, a.timeout])).toEqual([[['198.51.100.1', '198.51.100.2'], 600], [['198.51.100.3'], 0]]);
    expect(batch.removes.map((r) => r.ips)).toEqual([['198.51.100.4']]);
  });
});

describe('status', () => {
  test('fleet status tells when the last reconcile ran, what it put back or why it failed', () => {
    const s = newStatus('hostB', NOW - 600_000);
    expect(formatStatus(s, true, NOW)).not.toContain('reconcile');
    s.reconcile = { at: NOW - 30_000, added: 3, tookMs: 412 };
    expect(formatStatus(s, true, NOW)).toContain('reconcile: 30s ago, 3 put back (412 ms)\n');
    s.reconcile = { at: NOW - 5_000, added: 0, tookMs: 7, error: 'listing f2b-SSH failed: set f2b-SSH does not exist' };
    expect(formatStatus(s, true, NOW)).toContain('reconcile: 5s ago, failed: listing f2b-SSH failed: set f2b-SSH does not exist (7 ms)\n');
  });
});

describe('outbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-outbox-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  test('a batch is one file, in time order, read back whole; bad lines are counted', () => {
    expect(queueLines(dir, [{ op: 'ban', jail: 'ssh', ip: '198.51.100.1', at: 2, bantime: 600, reason: 'ban' }], 2000)).toBe(true);
    expect(queueLines(dir, [{ op: 'unban', jail: 'ssh', ip: '198.51.100.1', at: 1, reason: 'unban' }], 1000)).toBe(true);
    const files = pendingFiles(join(dir, 'fleet-outbox'));
    expect(files.map((f) => f.split('.')[0])).toEqual(['1', '2']);
    expect(parseOutbox('{"op":"ban","jail":"ssh","ip":"198.51.100.1","at":1,"bantime":600,"reason":"fail2ban"}\nnot json\n{"op":"nuke"}\n')).toMatchObject({ bad: 2, lines: [{ ip: '198.51.100.1' }] });
    expect(readdirSync(join(dir, 'fleet-outbox', 'tmp'))).toEqual([]);
  });
  test('fail2ban\'s action writes the same lines with its own tags, bounded, with no % for its config reader', () => {
    const text = fail2banFleetAction({ dir: '/var/lib/tsfirewall/fleet-outbox' });
    expect(text).toContain(`[ "$#" -lt ${OUTBOX_MAX} ]`);
    expect(text).toMatch(/^actionban = .*"ip":"<ip>","at":<time>,"bantime":<bantime>/m);
    expect(text).toMatch(/^actionprolong = %\(actionban\)s$/m);
    expect(text.replace('%(actionban)s', '')).not.toContain('%');
  });
});
