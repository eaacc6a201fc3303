/**
 * The reload, rollback and remove documents against a real kernel, in a network namespace of this file's own: a
 * reload keeps the bans and removes what the plan dropped, the same document passes `nft -c` in an empty
 * namespace (it declares all it flushes and deletes), rollback puts the snapshot back with its counters and bans,
 * and the full ruleset replaces the boot-time one.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseTable } from '../../src/backend/nftables/parse.js';
import { removeDocument, renderDocument, rollbackDocument } from '../../src/backend/nftables/render.js';
import { CASES } from '../unit/backend/nftables/cases.js';

const NS = `tsfw-nftr-${randomBytes(3).toString('hex')}`;
const nft = (args: readonly string[], input?: string) =>
  execa('ip', ['netns', 'exec', NS, 'nft', ...args], { input, reject: false, timeout: 60_000 });
const load = async (doc: string) => {
  const r = await nft(['-f', '-'], doc);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
};
const live = async () => {
  const r = await nft(['-j', 'list', 'table', 'inet', 'tsfirewall']);
  return parseTable(r.exitCode === 0 ? r.stdout : undefined);
};

beforeAll(async () => { await execa('ip', ['netns', 'add', NS]); });
afterAll(async () => { await execa('ip', ['netns', 'del', NS], { reject: false }); });

describe.sequential('reload over a loaded table', () => {
  let snapshot = '';

  test('the rich ruleset loads into an empty namespace, and bans go into its sets', async () => {
    await load(renderDocument(CASES.rich!()));
    await load('add element inet tsfirewall f2b-SSH { 198.51.100.7 timeout 600s, 198.51.100.8 }\nadd element inet tsfirewall f2b6-SSH { 2001:db8:2::7 timeout 600s }\n');
    snapshot = (await nft(['list', 'table', 'inet', 'tsfirewall'])).stdout;
    expect((await live()).live.setCounts.get('f2b6-SSH')).toBe(1);
  });

  test('a reload to the default keeps the IPv4 bans and removes the IPv6 sets, SNAT and its chains', async () => {
    const doc = renderDocument(CASES.default!(), (await live()).holdings);
    const check = await execa('unshare', ['--net', '--', 'nft', '-c', '-f', '-'], { input: doc, reject: false });
    expect(check.stderr).toBe('');
    expect(check.exitCode).toBe(0);
    await load(doc);
    const after = await live();
    expect(after.bans.get('f2b-SSH')!.map((b) => b.ip)).toEqual(['198.51.100.7', '198.51.100.8']);
    expect(after.bans.get('f2b-SSH')![0]!.expiresIn).toBeGreaterThan(0);
    expect(after.bans.has('f2b6-SSH')).toBe(false);
    expect(after.holdings.chains.map((c) => c.name)).not.toContain('srcnat');
    expect(after.live.families.get('ipv6')!.chains.map((c) => c.policy)).toEqual(['DROP', 'DROP', 'DROP']);
    const json = JSON.parse((await nft(['-j', 'list', 'set', 'inet', 'tsfirewall', 'rl-SSH'])).stdout) as { nftables: { set?: { timeout?: number } }[] };
    expect(json.nftables.find((o) => o.set)!.set!.timeout).toBe(180);
  });

  test('reloading the same plan deletes nothing and keeps everything', async () => {
    const doc = renderDocument(CASES.default!(), (await live()).holdings);
    expect(doc).not.toMatch(/^delete /m);
    await load(doc);
    expect((await live()).live.setCounts.get('f2b-SSH')).toBe(2);
  });

  test('rollback puts the snapshot back, with its IPv6 bans and SNAT', async () => {
    await load(rollbackDocument(snapshot));
    const back = await live();
    expect(back.bans.get('f2b6-SSH')!.map((b) => b.ip)).toEqual(['2001:db8:2::7']);
    expect(back.live.families.get('ipv4')!.chains.map((c) => c.name)).toContain('POSTROUTING');
    expect((await nft(['list', 'table', 'inet', 'tsfirewall'])).stdout.replace(/expires \S+/g, '')).toBe(snapshot.replace(/expires \S+/g, ''));
  });

  test('remove takes the whole table, and is no error when it is already gone', async () => {
    await load(removeDocument());
    await load(removeDocument());
    expect((await nft(['list', 'tables'])).stdout).toBe('');
    expect(rollbackDocument(undefined)).toBe(removeDocument());
  });
});

test('the full ruleset replaces the boot-time one, whose empty chain goes with it', async () => {
  await load(renderDocument(CASES.boot!()));
  expect((await live()).live.boot).toBe(true);
  await load(renderDocument(CASES.default!(), (await live()).holdings));
  const full = await live();
  expect(full.live.loaded).toBe(true);
  expect(full.live.boot).toBe(false);
  expect(full.live.families.get('ipv4')!.rules.some((r) => r.group === 'unicast')).toBe(true);
  await load(removeDocument());
});
