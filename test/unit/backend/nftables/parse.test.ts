/**
 * parse.ts against real `nft -j` output (fixtures/README.md says how each was captured), and text.ts's printing
 * of every rule against nft's own printing of the same table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseTable } from '../../../../src/backend/nftables/parse.js';
import { ruleText, type Obj } from '../../../../src/backend/nftables/text.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const rich = parseTable(fixture('rich-live.json'));

describe('a live table', () => {
  test('each family chain is the plan chain it came from, with the policy rule as its policy and counters', () => {
    const v4 = rich.live.families.get('ipv4')!;
    expect(v4.chains).toEqual([
      { table: 'filter', name: 'INPUT', policy: 'DROP', packets: 1, bytes: 60, ours: true },
      { table: 'filter', name: 'FORWARD', policy: 'ACCEPT', packets: 0, bytes: 0, ours: true },
      { table: 'filter', name: 'OUTPUT', policy: 'ACCEPT', packets: 18, bytes: 1000, ours: true },
      { table: 'nat', name: 'POSTROUTING', policy: 'ACCEPT', packets: 0, bytes: 0, ours: true },
      { table: 'raw', name: 'PREROUTING', policy: 'ACCEPT', packets: 33, bytes: 1804, ours: true },
    ]);
    expect(rich.live.families.get('ipv6')!.chains.map((c) => `${c.table}/${c.name} ${c.policy}`))
      .toEqual(['filter/INPUT DROP', 'filter/FORWARD ACCEPT', 'filter/OUTPUT ACCEPT', 'raw/PREROUTING ACCEPT']);
  });

  test('rules carry their counters, their group and their text; the policy rule is not one of them', () => {
    const input = rich.live.families.get('ipv4')!.rules.filter((r) => r.chain === 'INPUT');
    expect(input).toHaveLength(19);
    expect(input[3]).toEqual({ table: 'filter', chain: 'INPUT', packets: 3, bytes: 164, group: 'friends', rule: 'ip saddr 192.0.2.0/24 accept' });
    expect(input.filter((r) => r.rule.includes('tcp dport 22')).map((r) => [r.packets, r.rule])).toEqual([
      [0, 'tcp dport 22 ip saddr @f2b-SSH drop'],
      [7, 'tcp dport 22 ct state new log prefix "SSH before hitcounter "'],
      [1, 'tcp dport 22 ip saddr @rlheld-SSH update @rlheld-SSH { ip saddr } drop'],
      [1, 'tcp dport 22 add @rl-SSH { ip saddr counter limit rate over 1/week } add @rlheld-SSH { ip saddr } drop'],
      [5, 'tcp dport 22 accept'],
    ]);
    expect(input.some((r) => r.group === 'policy')).toBe(false);
  });

  test('a rule without our marker is listed without a group (someone else put it in our table)', () => {
    expect(rich.live.families.get('ipv4')!.rules.filter((r) => r.group === undefined))
      .toEqual([{ table: 'filter', chain: 'OUTPUT', packets: 0, bytes: 0, rule: 'tcp dport 25 reject' }]);
  });

  test('loaded, not the boot-time ruleset, and every set counted', () => {
    expect(rich.live.loaded).toBe(true);
    expect(rich.live.boot).toBe(false);
    expect(Object.fromEntries(rich.live.setCounts)).toEqual({
      'f2b-SSH': 3, 'rl-SSH': 1, 'rlheld-SSH': 1, 'f2b6-SSH': 1, 'rl6-SSH': 0, 'rlheld6-SSH': 0,
    });
  });

  test('ban members with the seconds each has left; one without a timeout has none', () => {
    expect(rich.bans.get('f2b-SSH')).toEqual([
      { ip: '198.51.100.7', expiresIn: 598 }, { ip: '198.51.100.8' }, { ip: '203.0.113.5', expiresIn: 3598 },
    ]);
    expect(rich.bans.get('f2b6-SSH')).toEqual([{ ip: '2001:db8:2::7', expiresIn: 598 }]);
    expect(rich.bans.has('rl-SSH')).toBe(false);
  });

  test('the limiter: the window counted six new connections and the source is held', () => {
    expect(rich.limiter).toEqual({ SSH: [{ src: '198.51.100.20', hits: 6, expiresIn: 56, detail: 'held, 56s left' }] });
  });

  test('the holdings a reload compares against: chains with their hooks, sets, the helper', () => {
    expect(rich.holdings.chains.filter((c) => c.base)).toEqual([
      { name: 'input', base: { type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
      { name: 'forward', base: { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
      { name: 'output', base: { type: 'filter', hook: 'output', prio: 0, policy: 'accept' } },
      { name: 'srcnat', base: { type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } },
      { name: 'helpers', base: { type: 'filter', hook: 'prerouting', prio: 0, policy: 'accept' } },
    ]);
    expect(rich.holdings.sets[1]).toEqual({ name: 'rl-SSH', type: 'ipv4_addr', flags: ['timeout'] });
    expect(rich.holdings.helpers).toEqual([{ name: 'ftp-tcp', type: 'ftp', protocol: 'tcp' }]);
  });

  test('families limits the per-family view only', () => {
    const v4only = parseTable(fixture('rich-live.json'), ['ipv4']);
    expect([...v4only.live.families.keys()]).toEqual(['ipv4']);
    expect(v4only.bans.get('f2b6-SSH')).toHaveLength(1);
  });
});

test('the boot-time ruleset is loaded and says so through its empty chain', () => {
  const boot = parseTable(fixture('boot.json'));
  expect(boot.live.loaded).toBe(true);
  expect(boot.live.boot).toBe(true);
  expect(boot.live.families.get('ipv4')!.rules.some((r) => r.group === 'unicast')).toBe(false);
});

test('one set from `nft -j list set` reads the same way', () => {
  expect(parseTable(fixture('list-set.json')).bans.get('f2b-SSH')).toEqual([{ ip: '198.51.100.7', expiresIn: 599 }, { ip: '198.51.100.8' }]);
});

test('no table: nothing loaded, nothing held', () => {
  for (const none of [undefined, '']) {
    const v = parseTable(none);
    expect(v.live.loaded).toBe(false);
    expect(v.live.families.size).toBe(0);
    expect(v.holdings).toEqual({ chains: [], sets: [], helpers: [] });
  }
});

test('every rule prints as nft itself printed it, minus its counter and comment', () => {
  const listed = fixture('rich-live.nft').split('\n').map((l) => l.trim())
    .filter((l) => /^(?!type |flags |elements |size |timeout |l3proto |chain |set |table |ct helper |\}).+/.test(l) && !l.includes(' expires '))
    .map((l) => l.replace(/ ?counter packets \d+ bytes \d+/, '').replace(/ comment "[^"]*"$/, '').trim());
  const json = JSON.parse(fixture('rich-live.json')) as { nftables: { rule?: { expr: Obj[] } }[] };
  const printed = json.nftables.flatMap((o) => (o.rule ? [ruleText(o.rule.expr)] : []));
  expect(listed.length).toBeGreaterThan(50);
  expect(printed).toEqual(listed);
});
