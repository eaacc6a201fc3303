/**
 * metrics' pure parts: the families from one read of the firewall (both backends' ways of holding the policy), the
 * exposition through prom-client, fail2ban's jail status and the fleet status file.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { LiveRule, LiveState } from '../../../src/backend/types.js';
import { parseFleetStatus } from '../../../src/metrics/fleet.js';
import { exposition } from '../../../src/metrics/expose.js';
import { metricFamilies, type MetricsInput } from '../../../src/metrics/families.js';
import { parseJailStatus } from '../../../src/services/fail2ban.js';

const rule = (packets: number, rest: Partial<LiveRule> & { chain: string }): LiveRule => ({ table: 'filter', packets, bytes: packets * 60, rule: '', ...rest });

/** iptables' view: the policy is a tsfw:policy DROP rule of our chain; the built-in INPUT's policy is not ours. */
const IPTABLES: LiveState = {
  loaded: true, boot: false, setCounts: new Map([['f2b-SSH', 2]]),
  families: new Map([['ipv4', {
    chains: [{ table: 'filter', name: 'INPUT', policy: 'ACCEPT', packets: 999, bytes: 1 }, { table: 'filter', name: 'tsfw-input', packets: 0, bytes: 0 }],
    rules: [
      rule(5, { chain: 'INPUT', group: 'jump', rule: '-j tsfw-input' }),
      rule(1, { chain: 'tsfw-input', group: 'bans', service: 'ssh', rule: '-p tcp -m set --match-set f2b-SSH src -j DROP' }),
      rule(4, { chain: 'tsfw-input', group: 'services', service: 'ssh', role: 'limit', rule: '-j DROP' }),
      rule(3, { chain: 'tsfw-input', group: 'services', service: 'ssh', rule: '-j ACCEPT' }),
      rule(7, { chain: 'tsfw-input', group: 'policy', rule: '-j DROP' }),
      rule(9, { chain: 'INPUT', rule: '-s 198.51.100.1/32 -j ACCEPT' }),
    ],
  }]]),
};

const input = (over: Partial<MetricsInput> = {}): MetricsInput => ({
  version: '1.2.3', backend: 'iptables-nft', state: 'running', live: IPTABLES, problems: [],
  bans: [{ jail: 'tsfw-ssh', mode: 'ipset', count: 2 }], limiter: { SSH: [{ src: '198.51.100.20' }] },
  tally: { 'tsfw-ssh': { added: 5, removed: 2, expired: 1 } }, daemon: 'stopped', fail2ban: new Map(), ...over,
});

const samples = (i: MetricsInput, name: string) => metricFamilies(i).find((f) => f.name === name)?.samples;

describe('metricFamilies', () => {
  test('per group, per service and role, limiter hits and policy drops; foreign rules and built-in policies count for nothing', () => {
    expect(samples(input(), 'tsfirewall_rule_packets_total')).toEqual([
      { labels: { family: 'ipv4', group: 'jump' }, value: 5 }, { labels: { family: 'ipv4', group: 'bans' }, value: 1 },
      { labels: { family: 'ipv4', group: 'services' }, value: 7 },
    ]);
    expect(samples(input(), 'tsfirewall_service_packets_total')).toEqual([
      { labels: { family: 'ipv4', service: 'ssh', rule: 'ban' }, value: 1 }, { labels: { family: 'ipv4', service: 'ssh', rule: 'limit' }, value: 4 },
      { labels: { family: 'ipv4', service: 'ssh', rule: 'accept' }, value: 3 },
    ]);
    expect(samples(input(), 'tsfirewall_limiter_hits_total')).toEqual([{ labels: { family: 'ipv4', service: 'ssh' }, value: 4 }]);
    expect(samples(input(), 'tsfirewall_policy_dropped_packets_total')).toEqual([{ labels: { family: 'ipv4', chain: 'input' }, value: 7 }]);
  });

  test("nftables' policy, folded into its chain, is the same drop", () => {
    const nft: LiveState = { ...IPTABLES, families: new Map([['ipv4', { chains: [{ table: 'filter', name: 'INPUT', policy: 'DROP', packets: 7, bytes: 420, ours: true },
      { table: 'filter', name: 'OUTPUT', policy: 'ACCEPT', packets: 50, bytes: 1, ours: true }], rules: [] }]]) };
    expect(samples(input({ live: nft }), 'tsfirewall_policy_dropped_bytes_total')).toEqual([{ labels: { family: 'ipv4', chain: 'input' }, value: 420 }]);
  });

  test('bans: tsfirewall\'s tally and, when fail2ban runs, its own figures beside it', () => {
    const i = input({ daemon: 'running', fail2ban: new Map([['tsfw-ssh', { failed: 12, currentlyBanned: 1, totalBanned: 4 }]]) });
    expect(samples(i, 'tsfirewall_bans_added_total')).toEqual([
      { labels: { jail: 'tsfw-ssh', by: 'tsfirewall' }, value: 5 }, { labels: { jail: 'tsfw-ssh', by: 'fail2ban' }, value: 4 },
    ]);
    expect(samples(i, 'tsfirewall_bans_removed_total')).toEqual([
      { labels: { jail: 'tsfw-ssh', by: 'tsfirewall' }, value: 3 }, { labels: { jail: 'tsfw-ssh', by: 'fail2ban' }, value: 3 },
    ]);
    expect(samples(i, 'tsfirewall_jail_failures_total')).toEqual([{ labels: { jail: 'tsfw-ssh' }, value: 12 }]);
    expect(samples(i, 'tsfirewall_ban_daemon_up')).toEqual([{ labels: {}, value: 1 }]);
  });

  test('no last apply, no fleet file, no fail2ban: those families are left out rather than reported as zeros', () => {
    const names = metricFamilies(input()).map((f) => f.name);
    expect(names.filter((n) => /last_apply|fleet|jail_failures/.test(n))).toEqual([]);
    const withFleet = metricFamilies(input({ fleet: { lagSeconds: 2.5, updated: 1_700_000_000 } })).map((f) => f.name);
    expect(withFleet).toEqual(expect.arrayContaining(['tsfirewall_fleet_lag_seconds', 'tsfirewall_fleet_status_timestamp_seconds']));
  });

  test('tamper and drift are one-hot gauges', () => {
    const i = input({ state: 'tampered', problems: ['a', 'b'], drift: { reason: 'address', iface: 'eth0', loadedFor: ['192.0.2.10'], now: ['192.0.2.11'] } });
    expect(samples(i, 'tsfirewall_state')?.filter((s) => s.value === 1)).toEqual([{ labels: { state: 'tampered' }, value: 1 }]);
    expect(samples(i, 'tsfirewall_tamper_problems')).toEqual([{ labels: {}, value: 2 }]);
    expect(samples(i, 'tsfirewall_pending')?.filter((s) => s.value === 1)).toEqual([{ labels: { reason: 'address' }, value: 1 }]);
  });
});

test('the exposition has HELP and TYPE for every family and escapes label values', async () => {
  const text = await exposition(metricFamilies(input({ limiter: { 'a"b': [] } })));
  expect(text).toMatch(/^# HELP tsfirewall_info .+\n# TYPE tsfirewall_info gauge\ntsfirewall_info\{version="1\.2\.3",backend="iptables-nft"\} 1$/m);
  expect(text).toContain('tsfirewall_limiter_sources{limiter="a\\"b"} 0');
  const types = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
  const helps = [...text.matchAll(/^# HELP (\S+)/gm)].map((m) => m[1]);
  expect(types).toEqual(helps);
  expect(types.every((n) => n!.startsWith('tsfirewall_'))).toBe(true);
});

test("fail2ban-client status JAIL's figures", () => {
  const text = ['Status for the jail: tsfw-ssh', '|- Filter', '|  |- Currently failed:\t2', '|  |- Total failed:\t17', '|  `- Journal matches:  _SYSTEMD_UNIT=ssh.service',
    '`- Actions', '   |- Currently banned:\t1', '   |- Total banned:\t3', '   `- Banned IP list:\t198.51.100.20'].join('\n');
  expect(parseJailStatus(text)).toEqual({ failed: 17, currentlyBanned: 1, totalBanned: 3 });
  expect(parseJailStatus('Sorry but the jail does not exist')).toBeUndefined();
});

test('the fleet status file', () => {
  expect(parseFleetStatus('{"lagSeconds": 1.5, "updated": 1700000000}')).toEqual({ lagSeconds: 1.5, updated: 1_700_000_000 });
  expect(parseFleetStatus('{"lagSeconds": -1}')).toBeUndefined();
  expect(parseFleetStatus('{')).toBeUndefined();
  expect(parseFleetStatus(undefined)).toBeUndefined();
});

test('docs/metrics.md: its Grafana panels are JSON, and every tsfirewall_ name it mentions is one metrics reports', async () => {
  const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
  const panels = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as { type?: string; targets?: { expr: string }[] });
  expect(panels.filter((p) => p.targets !== undefined).map((p) => p.type)).toEqual(['timeseries', 'stat']);
  const full = input({ lastApply: { verb: 'reload', backend: 'nftables', finished: 1, seconds: 0.2, result: 'ok' }, fleet: { lagSeconds: 1, updated: 2 },
    daemon: 'running', fail2ban: new Map([['tsfw-ssh', { failed: 1, currentlyBanned: 0, totalBanned: 1 }]]) });
  const reported = new Set(metricFamilies(full).map((f) => f.name));
  const mentioned = new Set([...doc.matchAll(/\btsfirewall_[a-z_]*[a-z]\b/g)].map((m) => m[0]));
  expect([...mentioned].filter((n) => !reported.has(n))).toEqual([]);
});

test("docs/metrics.md: its PromQL, its alerting rule and its panels' queries parse (promtool check rules)", async () => {
  const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
  const promql = doc.split('```promql\n')[1]!.split('```')[0]!.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const panels = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) => (JSON.parse(m[1]!) as { targets?: { expr: string }[] }).targets ?? []);
  const exprs = [...promql, ...panels.map((t) => t.expr)];
  const recording = `  - name: docs\n    rules:\n${exprs.map((e, i) => `      - record: docs:query${i}\n        expr: ${JSON.stringify(e)}\n`).join('')}`;
  const alerting = doc.split('```yaml\n')[1]!.split('```')[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-promql-'));
  try {
    writeFileSync(join(dir, 'rules.yml'), `${alerting}${recording}`);
    const r = await execa('promtool', ['check', 'rules', join(dir, 'rules.yml')], { reject: false, timeout: 60_000 });
    expect(r.exitCode, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${exprs.length + 1} rules found`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
