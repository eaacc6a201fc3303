/**
 * The nftables BanStore and fail2ban action against a real kernel, in a network namespace of this file's own:
 * the store's nft is a wrapper that runs the real one there (`ip netns exec`), so nothing touches this machine's
 * namespace. 10k bans go in, are listed, looked up, removed and flushed in single transactions.
 */
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CREATE_FIRST, nftBanStore } from '../../src/backend/nftables/bans.js';
import { nftablesAction } from '../../src/backend/nftables/fail2ban.js';
import { renderDocument } from '../../src/backend/nftables/render.js';
import type { BanTarget } from '../../src/backend/types.js';
import { banAddresses } from '../harness/ban-addresses.js';
import { CASES } from '../unit/backend/nftables/cases.js';

const NS = `tsfw-nftb-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'tsfw-nftb-'));
const NFT = join(dir, 'nft');
writeFileSync(NFT, `#!/bin/sh\nexec ip netns exec ${NS} nft "$@"\n`);
chmodSync(NFT, 0o755);
const store = nftBanStore({ nft: NFT });
const SSH: BanTarget = { family: 'ipv4', name: 'f2b-SSH', kind: 'set' };
const SSH6: BanTarget = { family: 'ipv6', name: 'f2b6-SSH', kind: 'set' };
const nft = (args: readonly string[], input?: string) => execa(NFT, args, { input, reject: false, timeout: 60_000 });

beforeAll(async () => { await execa('ip', ['netns', 'add', NS]); });
afterAll(async () => {
  await execa('ip', ['netns', 'del', NS], { reject: false });
  rmSync(dir, { recursive: true, force: true });
});

test('before the firewall is started there is no set: members is undefined, holds is false, add says why', async () => {
  expect(await store.members(SSH)).toBeUndefined();
  expect(await store.holds(SSH, '198.51.100.7')).toBe(false);
  await expect(store.add(SSH, ['198.51.100.7'])).rejects.toThrow(/set f2b-SSH does not exist/);
});

describe.sequential('with the rich ruleset loaded', () => {
  const many = banAddresses(10_000);

  test('10k bans in one batch, all listed with their time left', async () => {
    expect((await nft(['-f', '-'], renderDocument(CASES.rich!()))).exitCode).toBe(0);
    expect(await store.add(SSH, many, { timeout: 600 })).toBe(10_000);
    const members = (await store.members(SSH))!;
    expect(members).toHaveLength(10_000);
    expect(new Set(members.map((m) => m.ip))).toEqual(new Set(many));
    expect(members.every((m) => m.expiresIn! > 500 && m.expiresIn! <= 600)).toBe(true);
  });

  test('adding again renews the timeout; without one a ban stays until removed', async () => {
    await store.add(SSH, many.slice(0, 2), { timeout: 7200 });
    await store.add(SSH, many.slice(2, 3));
    const byIp = new Map((await store.members(SSH))!.map((m) => [m.ip, m.expiresIn]));
    expect(byIp.get(many[0]!)).toBeGreaterThan(7000);
    expect(byIp.get(many[2]!)).toBeUndefined();
    expect(byIp.get(many[3]!)).toBeLessThanOrEqual(600);
  });

  test('holds asks the kernel about one address', async () => {
    expect(await store.holds(SSH, many[9_999]!)).toBe(true);
    expect(await store.holds(SSH, '203.0.113.99')).toBe(false);
  });

  test('a large batch with some addresses already banned: its create is refused whole, and it loads as add, delete, add', async () => {
    const extra = banAddresses(10_500).slice(10_000);
    const batch = [...many.slice(9_000), ...extra];
    expect(batch.length).toBeGreaterThanOrEqual(CREATE_FIRST);
    expect(await store.add(SSH, batch, { timeout: 3600 })).toBe(batch.length);
    const byIp = new Map((await store.members(SSH))!.map((m) => [m.ip, m.expiresIn]));
    expect(byIp.size).toBe(10_500);
    expect(batch.every((ip) => byIp.get(ip)! > 3500)).toBe(true);
    expect(byIp.get(many[8_999]!)).toBeLessThanOrEqual(600);
    await store.remove(SSH, extra);
    await store.add(SSH, many.slice(9_000), { timeout: 600 });
  });

  test('removing 5k, some of them never banned, is one transaction and no error', async () => {
    await store.remove(SSH, [...many.slice(0, 5_000), '203.0.113.98', '203.0.113.99']);
    const left = (await store.members(SSH))!.map((m) => m.ip);
    expect(left).toHaveLength(5_000);
    expect(new Set(left)).toEqual(new Set(many.slice(5_000)));
  });

  test('IPv6 bans go to the IPv6 set, and an IPv4 address is refused for it', async () => {
    expect(await store.add(SSH6, ['2001:DB8:2::7'], { timeout: 60 })).toBe(1);
    expect((await store.members(SSH6))!.map((m) => m.ip)).toEqual(['2001:db8:2::7']);
    await expect(store.add(SSH6, ['198.51.100.7'])).rejects.toThrow(/IPv4, not for f2b6-SSH/);
  });

  test('chain mode targets the same set', async () => {
    expect(await store.holds({ family: 'ipv4', name: 'fail2ban-SSH', kind: 'chain' }, many[9_999]!)).toBe(true);
  });

  test('flush empties the set and keeps it', async () => {
    await store.flush(SSH);
    expect(await store.members(SSH)).toEqual([]);
  });

  test("the fail2ban action's commands, run through /bin/sh as fail2ban runs them: ban, a longer ban, unban twice", async () => {
    const text = nftablesAction({ nft: NFT, ipv6: true });
    const line = (key: string) => new RegExp(`^${key} = (.*)$`, 'm').exec(text)![1]!;
    const run = (key: string, time = '0') => execFileSync('/bin/sh', ['-c', line(key)
      .replace(/<nftables>/g, NFT).replace(/<addr_set>/g, 'f2b-SSH').replace(/<ip>/g, '198.51.100.7').replace(/<ipsettime>/g, time)]);
    run('actionban', '600');
    expect((await store.members(SSH))![0]!.expiresIn).toBeLessThanOrEqual(600);
    run('actionban', '86400');
    expect((await store.members(SSH))![0]!.expiresIn).toBeGreaterThan(86_000);
    run('actionunban');
    run('actionunban');
    expect(await store.members(SSH)).toEqual([]);
    run('actionban');
    expect(await store.members(SSH)).toEqual([{ ip: '198.51.100.7' }]);
  });
});
