/**
 * Issue 14, item 11: ban sets left behind. After a SIGKILL at `after-ipsets` the empty new sets stayed; `stop` with
 * a broken config left f2b-SSH with its entries; `stop` after IPV6 mirror -> drop left f2b6-SSH. stop must remove
 * what was loaded, and the next verb after a kill what the killed apply made. On both iptables flavours (ipset mode:
 * the sets live outside iptables) and on nftables (the sets are inside our table, so deleting it takes them: proven
 * here, not assumed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { mustExec, useCliCopy, type BackendName, BACKENDS } from './helpers.js';
import { runCli, useScratch } from './safety-kit.js';

type Backend = BackendName;

const BASE = 'INTERFACE=eth0\nFAIL2BAN=no\nBAN_MODE=ipset\nSERVICES=ssh web\n';
const MIRROR = `${BASE}IPV6=mirror\n`;
const DROP = `${BASE}IPV6=drop\n`;
const BROKEN = 'SERVICES=ssh\nTRUSTED_NETS=not-a-network\n';
const BANNED = { 'f2b-SSH': '198.51.100.7', 'f2b6-SSH': '2001:db8:2::7' } as const;

const cli = useCliCopy();
const scratch = useScratch();

describe.each(BACKENDS)('ban sets after faults and stops, on %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  const run = (args: string[], config: string, env: Record<string, string> = {}) =>
    runCli(cli.path, fw, scratch, args, { backend: backend as BackendName, config: cli.configs.write(config), env });
  const ok = async (args: string[], config: string) => {
    const r = await run(args, config);
    expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  /** Our ban sets with their members: ipset's sets on iptables, our table's f2b sets on nftables. */
  const banSets = async (): Promise<Record<string, string[]>> => {
    if (backend !== 'nftables') {
      const names = (await mustExec(fw, ['ipset', 'list', '-n'])).split('\n').filter((n) => /^f2b6?-/.test(n));
      return Object.fromEntries(await Promise.all(names.map(async (n) =>
        [n, ((await mustExec(fw, ['ipset', 'list', n])).split(/^Members:$/m)[1] ?? '').split('\n').filter(Boolean).map((l) => l.split(' ')[0]!)] as const)));
    }
    const listing = JSON.parse(await mustExec(fw, ['nft', '-j', 'list', 'sets'])) as { nftables: { set?: { table: string; name: string } }[] };
    const names = listing.nftables.map((o) => o.set).filter((s) => s?.table === 'tsfirewall' && /^f2b6?-/.test(s.name)).map((s) => s!.name);
    return Object.fromEntries(await Promise.all(names.map(async (n) => {
      const set = JSON.parse(await mustExec(fw, ['nft', '-j', 'list', 'set', 'inet', 'tsfirewall', n])) as { nftables: { set?: { elem?: unknown[] } }[] };
      const elems = set.nftables.find((o) => o.set)?.set?.elem ?? [];
      return [n, elems.map((e) => (typeof e === 'string' ? e : String((e as { elem: { val: string } }).elem.val)))] as const;
    })));
  };
  const ban = async (set: keyof typeof BANNED) => {
    await mustExec(fw, backend === 'nftables'
      ? ['nft', 'add', 'element', 'inet', 'tsfirewall', set, '{', BANNED[set], '}']
      // -exist: a ban saved by an earlier stop may already be back (bans survive stop and start).
      : ['ipset', '-exist', 'add', set, BANNED[set]]);
  };
  const killedAt = async (verb: string, config: string) => {
    const r = await run([verb], config, { TSFIREWALL_FAULT: 'after-ipsets' });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('fault point after-ipsets reached (kill)');
  };
  const recovered = async () => {
    const r = await run(['reload'], BROKEN);
    expect(r.exitCode, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/was interrupted mid-apply; the ruleset from before it was restored/);
  };

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
  });
  afterAll(async () => { await lab?.destroy(); });

  test('a first start killed after the sets were made: the next verb removes them', async () => {
    expect(await banSets()).toEqual({});
    await killedAt('start', MIRROR);
    // ipset's sets are made before iptables' transaction; nftables makes nothing before its one transaction.
    expect(await banSets()).toEqual(backend === 'nftables' ? {} : { 'f2b-SSH': [], 'f2b6-SSH': [] });
    await recovered();
    expect(await banSets()).toEqual({});
  });

  test('a reload to IPV6=mirror killed after the sets were made: the next verb removes the new set and keeps the old one\'s bans', async () => {
    await ok(['start'], DROP);
    await ban('f2b-SSH');
    await killedAt('reload', MIRROR);
    await recovered();
    expect(await banSets()).toEqual({ 'f2b-SSH': [BANNED['f2b-SSH']] });
    await ok(['stop'], DROP);
    expect(await banSets()).toEqual({});
  });

  test('stop with a config that no longer loads removes the ban sets, entries and all', async () => {
    await ok(['start'], MIRROR);
    await ban('f2b-SSH');
    await ban('f2b6-SSH');
    expect(await banSets()).toEqual({ 'f2b-SSH': [BANNED['f2b-SSH']], 'f2b6-SSH': [BANNED['f2b6-SSH']] });
    const r = await ok(['stop'], BROKEN);
    expect(r.stderr).toMatch(/config unusable/);
    expect(await banSets()).toEqual({});
  });

  test('stop after IPV6=mirror was edited to drop, without a reload: both sets go', async () => {
    await ok(['start'], MIRROR);
    await ban('f2b6-SSH');
    await ok(['stop'], DROP);
    expect(await banSets()).toEqual({});
  });

  test('stop after a reload from IPV6=mirror to drop (no rule names f2b6-SSH any more): both sets go', async () => {
    await ok(['start'], MIRROR);
    await ban('f2b6-SSH');
    await ok(['reload'], DROP);
    await ok(['stop'], DROP);
    expect(await banSets()).toEqual({});
  });
});
