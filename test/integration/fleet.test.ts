/**
 * Issue 15: fleet bans through NATS JetStream, with the real engine. Three clustered nats-server nodes (TLS, one
 * nkey user per host that may publish only its own subject: the config docs/fleet.md shows), five hosts on the
 * three backends, each running `tsfirewall fleet` in its own namespace, and an attacker. Every wait is for an event
 * with a generous ceiling; nothing here depends on the machine's speed.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { banAddress } from '../harness/ban-addresses.js';
import { until } from '../harness/poll.js';
import { connects, tsfw, tsfwEnv, tsfwOk, useCliCopy } from './helpers.js';
import {
  ATTACKER_IP, banned, bannedCount, createFleetLab, fleetStatus, listen, publishRaw, startFleet, stopFleet, type FleetHost, type FleetLab,
} from './fleet-kit.js';

const cli = useCliCopy();
let fl: FleetLab;
let stopListeners: (() => void)[] = [];
const h = (name: string): FleetHost => fl.hosts[name]!;
const others = (name: string) => Object.values(fl.hosts).filter((x) => x.name !== name);
const ban = (x: FleetHost, ips: readonly string[]) => tsfwOk(cli.path, x.host, x.backend, ['ban', ...ips], x.config);

beforeAll(async () => {
  fl = await createFleetLab(cli.path);
  for (const x of Object.values(fl.hosts)) stopListeners.push(await listen(x.host, [22]));
  await Promise.all(Object.values(fl.hosts).map((x) => startFleet(cli.path, x)));
}, 600_000);

let failed = false;
afterEach((ctx) => { if (ctx.task.result?.state === 'fail') failed = true; });

afterAll(async () => {
  // What each service said, kept after a failure for its post-mortem (the lab's own files go with it).
  if (fl && failed) writeFileSync(join(tmpdir(), `tsfw-fleet-${fl.lab.id}.log`), Object.values(fl.hosts).map((x) => `== ${x.fleet}\n${x.output}`).join('\n'));
  for (const stop of stopListeners) stop();
  await fl?.destroy();
}, 300_000);

describe('fleet bans', () => {
  test('a ban on A reaches every other host, which then drops the attacker\'s packets; bans and fleet status say where it came from', async () => {
    for (const x of Object.values(fl.hosts)) expect(await connects(fl.attacker, x.host.ip, 22), `attacker -> ${x.fleet} before the ban`).toBe(true);
    await ban(h('a'), [ATTACKER_IP]);
    for (const x of others('a')) {
      await until(`the ban on ${x.fleet}`, () => banned(x, ATTACKER_IP), 60);
      await until(`${x.fleet} dropping the attacker`, async () => !(await connects(fl.attacker, x.host.ip, 22, 1000)), 60);
    }
    expect(await connects(fl.attacker, h('a').host.ip, 22, 1000)).toBe(false);
    const listing = await tsfwOk(cli.path, h('b').host, h('b').backend, ['bans'], h('b').config);
    expect(listing).toMatch(new RegExp(`${ATTACKER_IP.replaceAll('.', '\\.')}  \\(\\d+m\\d+s left\\)  from hostA`));
    expect(await tsfwOk(cli.path, h('a').host, h('a').backend, ['bans'], h('a').config)).toMatch(new RegExp(`${ATTACKER_IP.replaceAll('.', '\\.')}  \\(.*left\\)  here`));
    const s = await fleetStatus(cli.path, h('c'));
    expect(s.status.hosts.hostA.lastEvent).toMatchObject({ op: 'ban', ip: ATTACKER_IP, jail: 'ssh' });
    expect(s.status.received.applied).toBeGreaterThanOrEqual(1);
    const text = await tsfw(cli.path, h('c').host, h('c').backend, ['fleet', 'status'], h('c').config);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/engine: connected to 198\.51\.100\.4\d:4222/);
    expect(text.stdout).toMatch(/hostA: \d+ events, last ban 198\.51\.100\.66 \(ssh\)/);
    expect((await fleetStatus(cli.path, h('a'))).status.sent.bans).toBeGreaterThanOrEqual(1);
  }, 300_000);

  test('an unban on A lifts the ban everywhere', async () => {
    await tsfwOk(cli.path, h('a').host, h('a').backend, ['unban', ATTACKER_IP], h('a').config);
    for (const x of Object.values(fl.hosts)) {
      await until(`${x.fleet} letting the attacker in again`, () => connects(fl.attacker, x.host.ip, 22, 1000), 60);
      expect(await banned(x, ATTACKER_IP)).toBe(false);
    }
  }, 300_000);

  test('an event banning a trusted net or the receiver\'s own address is dropped and counted', async () => {
    const trusted = '203.0.113.50';
    const ownOfB = h('b').host.ip;
    const marker = banAddress(500);
    const before = (await fleetStatus(cli.path, h('b'))).status.refused;
    // A trusts neither, so A bans both; then a marker, whose arrival shows the two were judged before it.
    await ban(h('a'), [trusted, ownOfB, marker]);
    for (const x of others('a')) await until(`the marker on ${x.fleet}`, () => banned(x, marker), 60);
    for (const x of others('a')) expect(await banned(x, trusted), `${trusted} on ${x.fleet}`).toBe(false);
    expect(await banned(h('b'), ownOfB)).toBe(false);
    expect(await banned(h('c'), ownOfB)).toBe(true);
    await until('hostB counting both refusals', async () => {
      const r = (await fleetStatus(cli.path, h('b'))).status.refused;
      return (r.trusted ?? 0) > (before.trusted ?? 0) && (r['own-address'] ?? 0) > (before['own-address'] ?? 0);
    }, 30);
    const s = (await fleetStatus(cli.path, h('b'))).status;
    expect(s.lastRefusals.map((r: { detail: string }) => r.detail).join('\n')).toMatch(/192\.0\.2\.12 from hostA: it is this host's own address/);
    // The friend still gets in: nothing of the trusted net was banned.
    expect(await connects(h('c').host, ownOfB, 22)).toBe(true);
  }, 300_000);

  test('a client without credentials cannot publish; a host publishing under another host\'s subject, or lying about its origin, is refused', async () => {
    const forged = banAddress(600);
    const lying = banAddress(601);
    const garbage = banAddress(602);
    const marker = banAddress(603);
    const event = (origin: string, ip: string) => JSON.stringify({ v: 1, op: 'ban', ip, jail: 'ssh', origin, at: Date.now(), expiresAt: Date.now() + 600_000, reason: 'ban' });
    const subject = (host: string, ip: string) => `tsfw.bans.${host}.ssh.${ip.replaceAll('.', '_')}`;
    const anon = await publishRaw(h('a').host, fl.ca, undefined, [{ subject: subject('hostA', forged), data: event('hostA', forged) }]);
    expect(anon[0]).toMatch(/authorization|authentication|permission/i);
    const asA = await publishRaw(h('a').host, fl.ca, h('a').seed, [
      { subject: subject('hostB', forged), data: event('hostB', forged) },
      { subject: subject('hostA', lying), data: event('hostB', lying) },
      { subject: subject('hostA', garbage), data: '{"v":1,"op":"ban","ip":' },
    ]);
    expect(asA[0]).not.toBe('acked');
    expect(asA[1]).toBe('acked');
    expect(asA[2]).toBe('acked');
    await ban(h('a'), [marker]);
    for (const x of others('a')) await until(`the marker on ${x.fleet}`, () => banned(x, marker), 60);
    for (const x of others('a')) {
      expect(await banned(x, forged), `forged on ${x.fleet}`).toBe(false);
      expect(await banned(x, lying), `lying on ${x.fleet}`).toBe(false);
      // The status file is written every couple of seconds: wait for the one that counts them.
      await until(`${x.fleet} counting the lie and the garbage`, async () => {
        const s = await fleetStatus(cli.path, x);
        return s.running && s.status.refused['origin-mismatch'] >= 1 && s.status.refused.malformed >= 1;
      }, 30);
    }
  }, 300_000);

  test('with one nats node killed, bans still propagate', async () => {
    await fl.nodes.n2!.kill('SIGKILL');
    const ip = banAddress(700);
    // The publisher may have been n2's client: its ban waits in its outbox until it is connected to another node.
    await ban(h('b'), [ip]);
    for (const x of others('b')) await until(`${ip} on ${x.fleet} with n2 down`, () => banned(x, ip), 120);
    await fl.startNode('n2');
  }, 300_000);

  test('a host whose fleet service was stopped catches up with 1000 bans, and those that expired meanwhile do not come back', async () => {
    const c = h('c');
    const stopped = await stopFleet(c);
    expect(stopped.exitCode, stopped.all).toBe(0);
    const lasting = Array.from({ length: 800 }, (_, i) => banAddress(1000 + i));
    const short = Array.from({ length: 200 }, (_, i) => banAddress(2000 + i));
    const viaStdin = async (x: FleetHost, ips: readonly string[]) => {
      const r = await x.host.exec([process.execPath, cli.path, '--config', x.config, 'ban', '-'], {
        input: ips.join('\n') + '\n', env: tsfwEnv(cli.path, x.backend, x.host.ns), timeoutMs: 120_000,
      });
      expect(r.exitCode, r.stderr).toBe(0);
    };
    await viaStdin(h('d'), lasting);
    await viaStdin(h('e'), short);
    // Every live host has all 1000; then E's five-second bans end (the kernel expires them on E itself).
    await until('the 1000 on hostB', async () => (await bannedCount(h('b'), [...lasting, ...short])) === 1000, 120);
    await until('the short bans ending on hostE', async () => (await bannedCount(h('e'), short)) === 0, 120);
    await startFleet(cli.path, c);
    await until('hostC catching up with the 800', async () => (await bannedCount(c, lasting)) === 800, 120);
    expect(await bannedCount(c, short)).toBe(0);
    const s = (await fleetStatus(cli.path, c)).status;
    expect(s.catchUp.done).toBe(true);
    expect(s.catchUp.replayed).toBeGreaterThanOrEqual(1000);
    expect(s.received.skipped.expired).toBeGreaterThanOrEqual(200);
  }, 600_000);

  test('with the engine down, a local ban still works at once and is published once the engine is back', async () => {
    for (const n of Object.values(fl.nodes)) await n.kill('SIGKILL');
    const ip = banAddress(3000);
    const r = await tsfw(cli.path, h('a').host, h('a').backend, ['ban', ip], h('a').config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await banned(h('a'), ip)).toBe(true);
    await until('hostA noticing the engine is gone', async () => (await fleetStatus(cli.path, h('a'))).status.connection.state === 'disconnected', 60);
    await until('the ban waiting in the outbox', async () => (await fleetStatus(cli.path, h('a'))).status.outbox.files >= 1, 30);
    expect(await banned(h('b'), ip)).toBe(false);
    for (const n of ['n1', 'n2', 'n3']) await fl.startNode(n);
    for (const x of others('a')) await until(`${ip} on ${x.fleet} after the engine came back`, () => banned(x, ip), 180);
    await until('hostA\'s outbox drained', async () => (await fleetStatus(cli.path, h('a'))).status.outbox.files === 0, 60);
  }, 600_000);
});
