/**
 * Issue 17, item 3: `tsfirewall metrics` on every backend, with the firewall loaded in a lab namespace and real
 * packets sent at it, so its counters are not zero and are asserted: services let in, the hit-rate limiter's drops,
 * the policy's drops, packets of a banned host, bans added and removed, the last apply (also when it failed), the
 * drift and tamper states. Every output is checked by `promtool check metrics` (Debian's prometheus package), and
 * `--textfile` writes the same atomically.
 */
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, connects, isIptables, mustExec, tool, tsfw, tsfwEnv, tsfwOk, useCliCopy } from './helpers.js';

const MYIP = '192.0.2.10';
const BANNED = '198.51.100.77';

const cli = useCliCopy();
const { configs } = cli;
const textDir = mkdtempSync(join(tmpdir(), 'tsfw-textfile-'));
afterAll(() => rmSync(textDir, { recursive: true, force: true }));

/** `promtool check metrics` on the text: its lint findings, '' when it passes. */
async function promtool(text: string): Promise<{ exitCode: number; output: string }> {
  const r = await execa('promtool', ['check', 'metrics'], { input: text, reject: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? 124, output: `${r.stdout}${r.stderr}` };
}

/** One sample's value: `name{a="b",...}` with exactly these labels, or undefined when there is none. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if ((m[2] ?? '').split(',').filter(Boolean).sort().join(',') === want) return Number(m[3]);
  }
  return undefined;
}

describe.each(BACKENDS)('metrics with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'out' | 'w1', Host>;
  const stops: (() => void)[] = [];
  const config = configs.write('FAIL2BAN=no\nSERVICES=ssh web\n');
  const run = (args: string[], conf = config) => tsfw(cli.path, h.fw, backend, args, conf);
  const metrics = async (conf = config) => {
    // The harness's exec strips the last newline that the real stdout ends with (and --textfile's file keeps).
    const text = `${await tsfwOk(cli.path, h.fw, backend, ['metrics'], conf)}\n`;
    const lint = await promtool(text);
    expect(lint, lint.output).toEqual({ exitCode: 0, output: '' });
    return text;
  };

  beforeAll(async () => {
    lab = await createLab([
      { name: 'fw', segment: 'lan', octet: 10 },
      { name: 'out', segment: 'wan', octet: 20 },
      { name: 'w1', segment: 'wan', octet: 31 },
    ]);
    h = lab.hosts as typeof h;
    stops.push(await listen(h.fw, [22, 80]));
    const started = await run(['start']);
    expect(started.exitCode, started.stderr).toBe(0);
  });
  afterAll(async () => { for (const stop of stops) stop(); await lab?.destroy(); });

  test('a fresh start: promtool-clean, every name tsfirewall_, running, intact, the apply recorded', async () => {
    const text = await metrics();
    const names = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
    expect(names.length).toBeGreaterThan(15);
    expect(names.filter((n) => !n.startsWith('tsfirewall_'))).toEqual([]);
    expect(value(text, 'tsfirewall_info', { backend, version: '0.1.0' })).toBe(1);
    expect(value(text, 'tsfirewall_state', { state: 'running' })).toBe(1);
    expect(value(text, 'tsfirewall_intact')).toBe(1);
    expect(value(text, 'tsfirewall_pending', { reason: 'config' })).toBe(0);
    expect(value(text, 'tsfirewall_last_apply_success')).toBe(1);
    expect(value(text, 'tsfirewall_last_apply_result', { result: 'ok', verb: 'start' })).toBe(1);
    expect(value(text, 'tsfirewall_last_apply_duration_seconds')).toBeGreaterThan(0);
    expect(value(text, 'tsfirewall_bans', { jail: 'tsfw-ssh' })).toBe(0);
  });

  test('packets show up per service, per group, as limiter hits and as policy drops', async () => {
    // Five new SSH connections from one WAN host: the limiter lets three in per window and drops the rest.
    const ssh = [];
    for (let i = 0; i < 5; i++) ssh.push(await connects(h.out, MYIP, 22, 1000));
    expect(ssh.slice(0, 3)).toEqual([true, true, true]);
    expect(ssh.slice(3)).toEqual([false, false]);
    expect(await connects(h.w1, MYIP, 80)).toBe(true);
    expect(await connects(h.w1, MYIP, 23, 1000)).toBe(false);
    const text = await metrics();
    expect(value(text, 'tsfirewall_service_packets_total', { family: 'ipv4', service: 'ssh', rule: 'accept' })).toBeGreaterThanOrEqual(3);
    expect(value(text, 'tsfirewall_service_packets_total', { family: 'ipv4', service: 'web', rule: 'accept' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'tsfirewall_service_bytes_total', { family: 'ipv4', service: 'web', rule: 'accept' })).toBeGreaterThanOrEqual(40);
    expect(value(text, 'tsfirewall_limiter_hits_total', { family: 'ipv4', service: 'ssh' })).toBeGreaterThanOrEqual(2);
    expect(value(text, 'tsfirewall_service_packets_total', { family: 'ipv4', service: 'ssh', rule: 'limit' }))
      .toBe(value(text, 'tsfirewall_limiter_hits_total', { family: 'ipv4', service: 'ssh' }));
    expect(value(text, 'tsfirewall_limiter_sources', { limiter: 'SSH' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'tsfirewall_policy_dropped_packets_total', { family: 'ipv4', chain: 'input' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'tsfirewall_rule_packets_total', { family: 'ipv4', group: 'services' })).toBeGreaterThanOrEqual(6);
    expect(value(text, 'tsfirewall_rule_packets_total', { family: 'ipv4', group: 'replies' })).toBeGreaterThanOrEqual(1);
  });

  test('bans: added and removed are counted where the verbs change the kernel, and a banned host\'s packets too', async () => {
    await tsfwOk(cli.path, h.fw, backend, ['ban', BANNED, h.w1.ip, '--jail', 'ssh'], config);
    expect(await connects(h.w1, MYIP, 22, 1000)).toBe(false);
    await tsfwOk(cli.path, h.fw, backend, ['unban', BANNED], config);
    const text = await metrics();
    expect(value(text, 'tsfirewall_bans', { jail: 'tsfw-ssh' })).toBe(1);
    expect(value(text, 'tsfirewall_bans_added_total', { jail: 'tsfw-ssh', by: 'tsfirewall' })).toBe(2);
    expect(value(text, 'tsfirewall_bans_removed_total', { jail: 'tsfw-ssh', by: 'tsfirewall' })).toBe(1);
    expect(value(text, 'tsfirewall_service_packets_total', { family: 'ipv4', service: 'ssh', rule: 'ban' })).toBeGreaterThanOrEqual(1);
    // Unbanning what is not banned removes nothing, and counts nothing.
    await tsfwOk(cli.path, h.fw, backend, ['unban', BANNED], config);
    expect(value(await metrics(), 'tsfirewall_bans_removed_total', { jail: 'tsfw-ssh', by: 'tsfirewall' })).toBe(1);
  });

  test('--textfile writes the same text atomically, readable by node_exporter, with no temp file left', async () => {
    const path = join(textDir, `${backend}.prom`);
    await tsfwOk(cli.path, h.fw, backend, ['metrics', '--textfile', path], config);
    const text = readFileSync(path, 'utf8');
    expect((await promtool(text)).exitCode).toBe(0);
    expect(value(text, 'tsfirewall_state', { state: 'running' })).toBe(1);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(textDir).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  test('drift and tamper: a config the rules were not loaded from is pending, a foreign rule among ours is tamper', async () => {
    const other = configs.write('FAIL2BAN=no\nSERVICES=ssh\n');
    expect(value(await metrics(other), 'tsfirewall_pending', { reason: 'config' })).toBe(1);
    await mustExec(h.fw, isIptables(backend)
      ? [tool(backend, 'ipv4'), '-w', '5', '-I', 'tsfw-input', '1', '-s', '198.51.100.99', '-j', 'ACCEPT']
      : ['nft', 'insert', 'rule', 'inet', 'tsfirewall', 'input4', 'ip', 'saddr', '198.51.100.99', 'accept']);
    const text = await metrics();
    expect(value(text, 'tsfirewall_intact')).toBe(0);
    expect(value(text, 'tsfirewall_state', { state: 'tampered' })).toBe(1);
    expect(value(text, 'tsfirewall_tamper_problems')).toBeGreaterThanOrEqual(1);
    await tsfwOk(cli.path, h.fw, backend, ['reload'], config);
    expect(value(await metrics(), 'tsfirewall_intact')).toBe(1);
  });

  test('a reload that fails after its load is rolled back, and the last apply says so', async () => {
    const r = await h.fw.exec([process.execPath, cli.path, '--config', config, 'reload'], {
      env: { ...tsfwEnv(cli.path, backend, h.fw.ns), TSFIREWALL_FAULT: 'after-ipv4:term' }, timeoutMs: 60_000,
    });
    expect(r.exitCode, r.stderr).not.toBe(0);
    const text = await metrics();
    expect(value(text, 'tsfirewall_last_apply_success')).toBe(0);
    expect(value(text, 'tsfirewall_last_apply_result', { result: 'rolled-back', verb: 'reload' })).toBe(1);
    expect(value(text, 'tsfirewall_state', { state: 'running' })).toBe(1);
  });

  test('stopped: still promtool-clean, saying so, with no rule counters to report', async () => {
    await tsfwOk(cli.path, h.fw, backend, ['stop'], config);
    const text = await metrics();
    expect(value(text, 'tsfirewall_state', { state: 'stopped' })).toBe(1);
    expect(value(text, 'tsfirewall_loaded')).toBe(0);
    expect(text).not.toContain('tsfirewall_rule_packets_total{');
    expect(value(text, 'tsfirewall_bans_added_total', { jail: 'tsfw-ssh', by: 'tsfirewall' })).toBe(2);
  });
});
