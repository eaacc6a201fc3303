/**
 * Switching backend on a running host (src/apply/switch.ts), with real packets in a lab namespace: a host on
 * iptables-nft with ipset-mode bans moves to nftables on `reload` (TSFIREWALL_BACKEND=nftables, as a changed
 * BACKEND= or BACKEND=auto after installing nft would), and back again. After each move the bans are in the new
 * backend's set with the time they had left (not a fresh JAIL_BANTIME), nothing of the old backend's is left
 * (chains, jumps, ipsets; or our table), and what other tools added stays: a rule in INPUT, an ipset, an nft table.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connects, hasOurRules, holders, mustExec, nftTable, savedRules, tsfw, tsfwEnv, tsfwOk, useCliCopy, useLoneFirewall, type BackendName } from './helpers.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';

const MYIP = '192.0.2.10';
/** Banned for 300 s by hand, half the jail's 600 s: a move that re-banned with JAIL_BANTIME would show. */
const TIMED = '198.51.100.99';
const TIMED_FOR = 300;
/** Banned until unbanned (ipset timeout 0). */
const FOREVER = '198.51.100.98';
/** A rule another tool put in INPUT (after our jump), an ipset and an nft table of theirs: never ours to touch. */
const FOREIGN_RULE = '-A INPUT -s 203.0.113.5/32 -p tcp -m tcp --dport 8080 -j ACCEPT';
const FOREIGN_SET = 'other-tool';
const FOREIGN_TABLE = 'table inet other-tool {\n\tchain watch {\n\t\ttype filter hook input priority 10; policy accept;\n\t\tcounter\n\t}\n}\n';

const cli = useCliCopy();
const { configs } = cli;
const CONFIG = configs.write('FAIL2BAN=no\nBAN_MODE=ipset\nSERVICES=ssh web\n');

/** A ban's time left as the kernel tells it: ipset's `timeout N` (0: none), or nft's element timeout and expires. */
interface Left { readonly ip: string; readonly seconds: number | 'forever' }

async function ipsetBans(fw: Host): Promise<Left[]> {
  const saved = await mustExec(fw, ['ipset', 'save', 'f2b-SSH']);
  return [...saved.matchAll(/^add f2b-SSH (\S+) timeout (\d+)$/gm)].map((m): Left => ({ ip: m[1]!, seconds: Number(m[2]) === 0 ? 'forever' : Number(m[2]) }))
    .sort((a, b) => a.ip.localeCompare(b.ip));
}

async function nftBans(fw: Host): Promise<Left[]> {
  type Elem = string | { elem: { val: string; timeout?: number; expires?: number } };
  const json = JSON.parse(await mustExec(fw, ['nft', '-j', 'list', 'set', 'inet', 'tsfirewall', 'f2b-SSH'])) as { nftables: { set?: { elem?: Elem[] } }[] };
  const elems = json.nftables.find((o) => o.set)?.set?.elem ?? [];
  return elems.map((e): Left => (typeof e === 'string' ? { ip: e, seconds: 'forever' }
    : { ip: e.elem.val, seconds: e.elem.timeout === undefined ? 'forever' : e.elem.expires ?? 0 })).sort((a, b) => a.ip.localeCompare(b.ip));
}

describe.sequential('moving a running host between iptables-nft and nftables', () => {
  let lab: Lab;
  let h: Record<'fw' | 'out' | 'timed', Host>;
  let stopListening: (() => void) | undefined;
  const run = (backend: BackendName, args: readonly string[]) => tsfw(cli.path, h.fw, backend, args, CONFIG);
  const ok = (backend: BackendName, args: readonly string[]) => tsfwOk(cli.path, h.fw, backend, args, CONFIG);
  /** Seconds the timed ban had left just before each move. */
  let left = 0;

  /** What must hold whichever backend filters: the banned host is out on SSH only, everyone else gets in. */
  const filters = async () => {
    const [banned, web, other] = await Promise.all([connects(h.timed, MYIP, 22, 1000), connects(h.timed, MYIP, 80), connects(h.out, MYIP, 22)]);
    expect({ banned, web, other }).toEqual({ banned: false, web: true, other: true });
  };
  const foreignStays = async () => {
    expect(await savedRules(h.fw, 'iptables-nft')).toContain(FOREIGN_RULE);
    expect(await mustExec(h.fw, ['ipset', 'list', '-n'])).toMatch(new RegExp(`^${FOREIGN_SET}$`, 'm'));
    expect(await mustExec(h.fw, ['nft', 'list', 'table', 'inet', 'other-tool'])).toContain('chain watch');
  };
  const timedLeft = (bans: readonly Left[]) => bans.find((b) => b.ip === TIMED)?.seconds;

  beforeAll(async () => {
    lab = await createLab([
      { name: 'fw', segment: 'lan', octet: 10 },
      { name: 'out', segment: 'wan', octet: 20 },
      { name: 'timed', segment: 'wan', octet: 99 },
    ]);
    h = lab.hosts as typeof h;
    stopListening = await listen(h.fw, [22, 80]);
  });
  afterAll(async () => { stopListening?.(); await lab?.destroy(); });

  test('on iptables-nft: bans in the ipset, and other tools\' rules beside ours', async () => {
    await ok('iptables-nft', ['start']);
    await mustExec(h.fw, ['ipset', '-exist', 'add', 'f2b-SSH', TIMED, 'timeout', String(TIMED_FOR)]);
    await mustExec(h.fw, ['ipset', 'add', 'f2b-SSH', FOREVER, 'timeout', '0']);
    await mustExec(h.fw, ['iptables-nft', '-w', '5', ...FOREIGN_RULE.replace(' -m tcp', '').split(' ')]);
    await mustExec(h.fw, ['ipset', 'create', FOREIGN_SET, 'hash:ip']);
    const table = await h.fw.exec(['nft', '-f', '-'], { input: FOREIGN_TABLE });
    expect(table.exitCode, table.stderr).toBe(0);
    expect(await holders(h.fw)).toEqual(['iptables-nft']);
    await filters();
    await foreignStays();
  });

  test('reload with nftables: the bans move with their time left, nothing of iptables\' is left, the foreign rules stay', async () => {
    const before = await ipsetBans(h.fw);
    left = timedLeft(before) as number;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(TIMED_FOR);
    const r = await run('nftables', ['reload']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('(nftables)');
    expect(r.stderr).toMatch(/the ruleset iptables-nft held was replaced by nftables's, its 2 bans kept/);

    const moved = await nftBans(h.fw);
    expect(moved.map((b) => b.ip)).toEqual([FOREVER, TIMED].sort());
    expect(moved.find((b) => b.ip === FOREVER)!.seconds).toBe('forever');
    // At most what it had, and not a fresh 600 s; the 60 s below it are a generous ceiling for the reload itself.
    expect(timedLeft(moved)).toBeLessThanOrEqual(left);
    expect(timedLeft(moved)).toBeGreaterThan(left - 60);

    expect(await holders(h.fw)).toEqual(['nftables']);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const saved = await savedRules(h.fw, 'iptables-nft', family);
      expect(hasOurRules(saved), saved).toBe(false);
      expect(saved, family).not.toMatch(/tsfw|fail2ban-|f2b-|^:\S+ DROP/m);
    }
    expect(await mustExec(h.fw, ['ipset', 'list', '-n'])).not.toMatch(/f2b/);
    await foreignStays();
    await filters();
    const status = JSON.parse(await ok('nftables', ['status', '--json'])) as { state: string; backend: string; pending: unknown };
    expect(status).toMatchObject({ state: 'running', backend: 'nftables', pending: null });
    // Once moved, a reload takes nothing over: there is nothing of iptables' left to take.
    const again = await run('nftables', ['reload']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/was replaced by/);
  });

  test('and back: reload with iptables-nft moves the bans into the ipset with their time left, and our table goes', async () => {
    left = timedLeft(await nftBans(h.fw)) as number;
    const r = await run('iptables-nft', ['reload']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('(iptables-nft)');
    expect(r.stderr).toMatch(/the ruleset nftables held was replaced by iptables-nft's, its 2 bans kept/);

    const back = await ipsetBans(h.fw);
    expect(back.map((b) => b.ip)).toEqual([FOREVER, TIMED].sort());
    expect(back.find((b) => b.ip === FOREVER)!.seconds).toBe('forever');
    expect(timedLeft(back)).toBeLessThanOrEqual(left);
    expect(timedLeft(back)).toBeGreaterThan(left - 60);

    expect(await nftTable(h.fw)).toBe('');
    expect(await holders(h.fw)).toEqual(['iptables-nft']);
    await foreignStays();
    await filters();
    expect((JSON.parse(await ok('iptables-nft', ['status', '--json'])) as { backend: string }).backend).toBe('iptables-nft');
  });

  test('stop leaves only the other tools\' rules', async () => {
    await ok('iptables-nft', ['stop']);
    expect(await holders(h.fw)).toEqual([]);
    await foreignStays();
  });

  test('start after a stop asks no other backend: the stop removed every ruleset of ours', async () => {
    const r = await h.fw.exec(withoutFail2ban([process.execPath, cli.path, '--config', CONFIG, 'start']), {
      env: { ...tsfwEnv(cli.path, 'nftables', h.fw.ns), TSFIREWALL_TRACE: '1' }, timeoutMs: 60_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const programs = [...r.stderr.matchAll(/"exec ([^"]+)"/g)].map((m) => m[1]);
    expect(programs).toContain('libnftables');
    expect(programs.filter((p) => /iptables/.test(p!))).toEqual([]);
    expect(await holders(h.fw)).toEqual(['nftables']);
  });

  test('with the record lost (run directory wiped), a start still finds and takes over the other backend\'s rules', async () => {
    await ok('nftables', ['stop']);
    await ok('iptables-nft', ['start']);
    await mustExec(h.fw, ['ipset', '-exist', 'add', 'f2b-SSH', TIMED, 'timeout', String(TIMED_FOR)]);
    rmSync(join(dirname(cli.path), 'run'), { recursive: true, force: true });
    await ok('nftables', ['start']);
    expect(await holders(h.fw)).toEqual(['nftables']);
    expect((await nftBans(h.fw)).map((b) => b.ip)).toContain(TIMED);
    await filters();
    await foreignStays();
    await ok('nftables', ['stop']);
  });
});

describe('what a start with no record asks', () => {
  let fw: Host;
  useLoneFirewall((host) => { fw = host; });

  test('at boot (no record, no stop): iptables-nft is read only when nftables has a table of its names, iptables-legacy only when the kernel lists a legacy table', async () => {
    const traced = async (backend: BackendName, args: readonly string[]) => {
      const r = await fw.exec(withoutFail2ban([process.execPath, cli.path, '--config', CONFIG, ...args]), {
        env: { ...tsfwEnv(cli.path, backend, fw.ns), TSFIREWALL_TRACE: '1' }, timeoutMs: 60_000,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      return [...r.stderr.matchAll(/"exec ([^"]+)"/g)].map((m) => m[1]!.split('/').pop()!);
    };
    const wipeRecord = () => rmSync(join(dirname(cli.path), 'run'), { recursive: true, force: true });
    wipeRecord();
    expect((await traced('nftables', ['start'])).filter((p) => /iptables/.test(p))).toEqual([]);
    await traced('nftables', ['stop']);
    // What iptables-nft's first rule creates (Docker's, say): now it may hold ours.
    await mustExec(fw, ['nft', 'add', 'table', 'ip', 'filter']);
    wipeRecord();
    const first = await traced('nftables', ['start']);
    expect(first).toEqual(expect.arrayContaining(['iptables-nft-save', 'ip6tables-nft-save']));
    expect(first.filter((p) => /legacy/.test(p))).toEqual([]);
    await traced('nftables', ['stop']);
    await mustExec(fw, ['nft', 'delete', 'table', 'ip', 'filter']);
    await mustExec(fw, ['iptables-legacy', '-t', 'filter', '-S']);
    wipeRecord();
    expect(await traced('nftables', ['start'])).toEqual(expect.arrayContaining(['iptables-legacy-save', 'ip6tables-legacy-save']));
    await traced('nftables', ['stop']);
  });
});
