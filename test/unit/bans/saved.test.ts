import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { chainTimeLeft, forgetChainBans, parseLedger, readLedger, recordChainBans } from '../../../src/bans/expiry.js';
import { jailsOf } from '../../../src/bans/jails.js';
import { parseSaved, restorePlan, type SavedBan } from '../../../src/bans/saved.js';
import { config } from '../fixtures.js';

const NOW = 1_800_000_000_000;
const jails = (text: string) => jailsOf(config(text));
const ban = (ip: string, secondsLeft: number | null, over: Partial<SavedBan> = {}): SavedBan =>
  ({ jail: 'tsfw-ssh', family: 'ipv4', ip, expiresAt: secondsLeft === null ? null : NOW + secondsLeft * 1000, ...over });

test('restores set entries with the time they had left, grouped, expired and unknown ones dropped', () => {
  const plan = restorePlan([ban('198.51.100.1', 500), ban('198.51.100.2', 500), ban('198.51.100.3', -1), ban('198.51.100.4', null),
    ban('198.51.100.5', 30, { jail: 'tsfw-gone' })], jails('BAN_MODE=ipset\n'), NOW);
  expect(plan.expired).toBe(1);
  expect(plan.unknown).toBe(1);
  expect(plan.batches).toEqual([
    { target: { family: 'ipv4', name: 'f2b-SSH', kind: 'set' }, ips: ['198.51.100.1', '198.51.100.2'], timeout: 500 },
    { target: { family: 'ipv4', name: 'f2b-SSH', kind: 'set' }, ips: ['198.51.100.4'], timeout: 0 },
  ]);
});

test('time left is rounded up by at most 2%, so 600 different times take a few hundred batches at most', () => {
  const bans = Array.from({ length: 600 }, (_, i) => ban(`198.51.${Math.floor(i / 250)}.${(i % 250) + 1}`, i + 1));
  const plan = restorePlan(bans, jails('BAN_MODE=ipset\n'), NOW);
  // 2% steps: exact up to 50 s, then about 50 batches per doubling of the time left (160 here, not 600).
  expect(plan.batches.length).toBeLessThanOrEqual(200);
  for (const b of plan.batches) {
    for (const ip of b.ips) {
      const had = bans.find((x) => x.ip === ip)!.expiresAt! - NOW;
      expect(b.timeout! * 1000).toBeGreaterThanOrEqual(had);
      expect(b.timeout! * 1000).toBeLessThanOrEqual(Math.ceil(had * 1.02) + 1000);
    }
  }
});

test('chain mode: one batch per expiry, with the exact end for the ledger; a ban saved from a set goes into today\'s chain', () => {
  const plan = restorePlan([ban('198.51.100.1', 500), ban('198.51.100.2', null), ban('2001:db8::5', 100, { family: 'ipv6' })],
    jails('BAN_MODE=chain\nIPV6=mirror\n'), NOW);
  expect(plan.batches).toEqual([
    { target: { family: 'ipv4', name: 'fail2ban-SSH', kind: 'chain' }, ips: ['198.51.100.1'], expiresAt: NOW + 500_000 },
    { target: { family: 'ipv4', name: 'fail2ban-SSH', kind: 'chain' }, ips: ['198.51.100.2'] },
    { target: { family: 'ipv6', name: 'fail2ban-SSH', kind: 'chain' }, ips: ['2001:db8::5'], expiresAt: NOW + 100_000 },
  ]);
  // Without IPV6=mirror there is no IPv6 target: that ban has nowhere to go.
  expect(restorePlan([ban('2001:db8::5', 100, { family: 'ipv6' })], jails('BAN_MODE=chain\n'), NOW).unknown).toBe(1);
});

test.each([
  ['not JSON', '{"version":1,"bans":[{"ip":', /JSON|Unexpected|Expected/],
  ['no list', '{"version":1}', /no list of bans/],
  ['a malformed entry', '{"bans":[{"jail":"tsfw-ssh","family":"ipv4","ip":"198.51.100.1","expiresAt":"soon"}]}', /1 malformed entries/],
])('a saved file with %s is unreadable, with the reason', (_name, text, reason) => {
  const r = parseSaved(text);
  expect('error' in r && r.error).toMatch(reason);
});

test('a good saved file reads back', () => {
  const bans = [ban('198.51.100.1', 5), ban('198.51.100.2', null)];
  expect(parseSaved(JSON.stringify({ version: 1, savedAt: NOW, bans }))).toEqual({ bans });
});

let dir: string;
beforeEach(() => { dir = join(mkdtempSync(join(tmpdir(), 'tsfw-ledger-')), 'state'); });
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

test('the chain-ban ledger records, renews, tells the time left and forgets', () => {
  const t = { family: 'ipv4' as const, name: 'fail2ban-SSH', kind: 'chain' as const };
  recordChainBans(t, ['198.51.100.1', '198.51.100.2'], NOW + 600_000, dir);
  recordChainBans(t, ['198.51.100.1'], NOW + 900_000, dir);
  expect(readLedger(dir)).toHaveLength(2);
  expect([...chainTimeLeft(t, NOW, dir)]).toEqual([['198.51.100.2', 600], ['198.51.100.1', 900]]);
  forgetChainBans(t, ['198.51.100.2'], dir);
  expect(readLedger(dir).map((e) => e.ip)).toEqual(['198.51.100.1']);
  forgetChainBans(t, 'all', dir);
  expect(readLedger(dir)).toEqual([]);
  expect(parseLedger('garbage')).toEqual([]);
  expect(parseLedger('{"bans":[{"family":"ipv4","chain":"x","ip":"1.2.3.4"}]}')).toEqual([]);
});
