/**
 * `npm run bench:fleet`: the fleet's speed and memory with the real engine, side by side in one run. Three clustered
 * nats-server nodes (TLS, one nkey user per host: the config docs/fleet.md shows) and HOSTS tsfirewall hosts on
 * nftables, each in its own lab namespace with its own fleet service; times are taken from `nft monitor` in each
 * receiver's namespace, so no poll adds its period. Propagation is measured against CrowdSec's LAPI and nftables
 * bouncers in the same namespaces (bench/fleet/crowdsec.ts), in interleaved rounds (bench/fleet/propagation.ts).
 * Writes bench/results/fleet.md (and raw samples under raw/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { banAddress } from '../../test/harness/ban-addresses.js';
import { createLab } from '../../test/harness/netns.js';
import { fleetNodeConfig, makePki, startNode, userKeys, type NodeSpec, type RunningNode } from '../../test/harness/nats.js';
import { quantile, rng } from '../lib/stats.js';
import { catchUpDesigns, directPublish } from './client.js';
import { crowdsecMissing, startCrowdsec, type CrowdsecLab } from './crowdsec.js';
import { allSeen, caughtUp, NODE_OPTIONS, queue, sleep, startService, stopService, waitStatus, watchSet, type BHost } from './hosts.js';
import { Addresses, interleaved, lostText, p50p99 } from './propagation.js';
import { compared, crowdsecNote, row } from './report.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const HOSTS = Number(process.env.FLEET_BENCH_HOSTS ?? 6);
const ROUNDS = Number(process.env.FLEET_BENCH_ROUNDS ?? 60);
/** The bouncers' update_frequency for the comparison (ms), and rounds at the package's default of 10 s (0: none). */
const CS_PERIOD_MS = Number(process.env.FLEET_BENCH_CS_UPDATE_MS ?? 100);
const CS_DEFAULT_ROUNDS = Number(process.env.FLEET_BENCH_CS_DEFAULT_ROUNDS ?? 8);
const CS_DEFAULT_MS = 10_000;
const NODES: NodeSpec[] = [{ name: 'n1', ip: '198.51.100.41' }, { name: 'n2', ip: '198.51.100.42' }, { name: 'n3', ip: '198.51.100.43' }];
/** CrowdSec's LAPI host, on the WAN segment beside the nats-server nodes. */
const LAPI = { name: 'lapi', octet: 50 };
const names = Array.from({ length: HOSTS }, (_, i) => `h${i}`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-fleet-bench-'));
  const dist = join(dir, 'dist');
  cpSync(join(repo, 'dist'), dist, { recursive: true });
  const cli = join(dist, 'tsfirewall.cjs');
  const lab = await createLab([
    ...names.map((n, i) => ({ name: n, segment: 'lan' as const, octet: 11 + i })),
    ...NODES.map((n) => ({ name: n.name, segment: 'wan' as const, octet: Number(n.ip.split('.')[3]) })),
    { ...LAPI, segment: 'wan' as const },
  ]);
  const nodes: RunningNode[] = [];
  const hosts: BHost[] = [];
  const out: string[] = [];
  const raw: Record<string, unknown> = {};
  let crowdsec: CrowdsecLab | undefined;
  try {
    const ca = await makePki(dir, NODES);
    const keys = await Promise.all(names.map(() => userKeys()));
    const users = names.map((n, i) => ({ host: n, nkey: keys[i]!.publicKey }));
    for (const node of NODES) nodes.push(await startNode(lab.hosts[node.name]!, node, fleetNodeConfig({ node, nodes: NODES, dir, users }), dir));
    for (const [i, n] of names.entries()) {
      const seed = join(dir, `${n}.seed`);
      writeFileSync(seed, `${keys[i]!.seed}\n`, { mode: 0o600 });
      const config = join(dir, `${n}.conf`);
      // Limits far above the bench's bursts: what is timed here is the fleet, not its brakes.
      writeFileSync(config, `FAIL2BAN=no\nBAN_MODE=ipset\nSERVICES=ssh\nSERVICE_SSH_RATE_LIMIT=no\nTRUST_LOCAL_SUBNET=no\nSERVICE_SSH_JAIL_BANTIME=3600\n` +
        `FLEET_SERVERS=${NODES.map((x) => `tls://${x.ip}:4222`).join(',')}\nFLEET_CREDS=${seed}\nFLEET_TLS_CA=${ca}\nFLEET_NAME=${n}\n` +
        'FLEET_ORIGIN_RATE=1000000/60\nFLEET_ORIGIN_MAX=1000000\n');
      const state = join(dir, `state-${n}`);
      const env = { ...process.env as Record<string, string>, TSFIREWALL_BACKEND: 'nftables', TSFIREWALL_STATE_DIR: state, TSFIREWALL_RUN_DIR: join('/dev/shm', `${lab.id}-${n}`), TSFIREWALL_CACHE_DIR: join(dir, 'v8') };
      const h: BHost = { name: n, host: lab.hosts[n]!, env, config, state, seen: new Map(), crowdsecSeen: new Map() };
      const r = await h.host.exec([process.execPath, cli, '--config', config, 'start'], { env });
      if (r.exitCode !== 0) throw new Error(`start on ${n}: ${r.stderr}`);
      hosts.push(h);
    }
    for (const h of hosts) await startService(h, cli);
    for (const h of hosts) await caughtUp(h);
    for (const h of hosts.slice(1)) watchSet(h);
    await sleep(1000);
    const [a, ...receivers] = hosts as [BHost, ...BHost[]];
    const load = loadavg()[0]!.toFixed(2);
    const servers = NODES.map((x) => `${x.ip}:4222`);

    // 1. Propagation: one ban at a time on a (the fleet's queued as the verb queues it, CrowdSec's through cscli),
    // until it is in every receiver's set; the two in interleaved rounds.
    let why = crowdsecMissing();
    if (!why) {
      try {
        crowdsec = await startCrowdsec({ dir, lapi: lab.hosts[LAPI.name]!, banner: a.host, receivers });
        await crowdsec.bouncers(`${CS_PERIOD_MS}ms`);
      } catch (err) {
        why = String((err as Error).message).split('\n')[0]!.slice(0, 300);
        await crowdsec?.stop();
        crowdsec = undefined;
      }
    }
    const addresses = new Addresses();
    const rand = rng(Number(process.env.FLEET_BENCH_SEED ?? 15));
    const rounds = (n: number, periodMs: number) => interleaved({ a, receivers, crowdsec, rounds: n, periodMs, addresses, rand });
    await rounds(1, CS_PERIOD_MS);
    // What the bouncers' polling alone costs the LAPI at this period: a few seconds without bans.
    const cpu0 = { at: performance.now(), lapi: crowdsec?.lapiCpuMs() ?? 0 };
    if (crowdsec) await sleep(3000);
    const lapiShare = crowdsec ? (crowdsec.lapiCpuMs() - cpu0.lapi) / (performance.now() - cpu0.at) : NaN;
    const fast = await rounds(ROUNDS, CS_PERIOD_MS);
    raw.propagation = fast.fleet;
    const p99 = quantile(fast.fleet, 0.99);
    const fleetLost = fast.lost.tsfirewall;
    out.push(row(`propagation, one ban on h0 to the set on each of ${receivers.length} hosts (${fast.fleet.length} samples${crowdsec ? ", rounds interleaved with CrowdSec's below" : ''})`,
      `${p50p99(fast.fleet)}${fleetLost.length ? ` (${lostText(fleetLost, fast.fleet.length).slice(2)})` : ''}`, 'p99 < 250 ms, none lost', p99 < 250 && fleetLost.length === 0));
    if (crowdsec) {
      raw.crowdsec = fast;
      out.push(...compared(crowdsec, fast, receivers.length, `update_frequency ${CS_PERIOD_MS} ms`, `; the LAPI spent ${(100 * lapiShare).toFixed(1)}% of a core on ${receivers.length} bouncers' polls alone`));
      if (CS_DEFAULT_ROUNDS > 0) {
        await crowdsec.bouncers(`${CS_DEFAULT_MS / 1000}s`);
        const slow = await rounds(CS_DEFAULT_ROUNDS, CS_DEFAULT_MS);
        raw.crowdsecDefault = slow;
        out.push(...compared(crowdsec, slow, receivers.length, `update_frequency ${CS_DEFAULT_MS / 1000} s (the package's default)`, ''));
      }
      await crowdsec.stop();
      crowdsec = undefined;
    } else {
      out.push(row('CrowdSec on the same propagation (the anchor)', `not measured: ${why}`, 'informs the comparison', false));
    }
    const placed = addresses.fleetPlaced;
    const note = why ? '' : `\n${crowdsecNote(CS_PERIOD_MS, CS_DEFAULT_ROUNDS)}`;

    // 2. A burst of 10k on one host, until all are on every host.
    const burst = Array.from({ length: 10_000 }, (_, i) => banAddress(1000 + i));
    const tb = queue(a, burst);
    const burstTimes = await allSeen(receivers, burst, 120_000);
    const burstMs = Math.max(...burstTimes) - tb;
    raw.burst = burstTimes.map((t) => t - tb);
    out.push(row(`burst of 10,000 bans on h0, until all are on all ${receivers.length} other hosts`, `${burstMs.toFixed(0)} ms`, '< 5000 ms', burstMs < 5000));

    // 3. Catch-up: a host whose service was stopped comes back to 10k+ active bans.
    const c = receivers[receivers.length - 1]!;
    await stopService(c);
    const flushed = await c.host.exec(['nft', 'flush', 'set', 'inet', 'tsfirewall', 'f2b-SSH']);
    if (flushed.exitCode !== 0) throw new Error(flushed.stderr);
    rmSync(join(c.state, 'fleet-bans.txt'), { force: true });
    c.seen.clear();
    const tc = Date.now();
    await startService(c, cli);
    const catchTimes = await allSeen([c], burst, 120_000);
    const catchMs = Math.max(...catchTimes) - tc;
    // The restarted service's own status (its pid), once its catch-up is done.
    await waitStatus(c, (s) => s.pid === c.service?.pid && s.catchUp.done, 60_000);
    const replay = (JSON.parse(readFileSync(join(c.state, 'fleet-status.json'), 'utf8')) as { catchUp: { tookMs?: number; replayed: number } }).catchUp;
    out.push(row(`catch-up of ${replay.replayed} active bans (10,000 of the burst among them) for a host whose service restarts, from its start to the last in its set`,
      `${catchMs.toFixed(0)} ms (replay alone ${replay.tookMs} ms)`, '< 2000 ms', catchMs < 2000));

    // 3b. The two catch-up designs side by side, from a fresh client of h0's with the stream as it is now: the replay
    // of the latest message per subject (what the service does), and a durable consumer delivering every event.
    try {
      const designs = catchUpDesigns(a, servers, ca, join(dir, 'h0.seed'));
      out.push(row(`catch-up designs, a fresh client reading the stream's ${designs.n} events: replay of the latest per subject (the service's) / a durable consumer delivering them all (median of 5 each)`,
        `${designs.replay.toFixed(0)} ms / ${designs.durable.toFixed(0)} ms`, 'informs the design', true));
    } catch (err) {
      out.push(row('catch-up designs side by side', `not measured: ${String((err as Error).message).split('\n')[0]!.slice(0, 200)}`, 'informs the design', false));
    }

    // 4. Memory of a receiver's fleet service at 100k active bans.
    const more = Array.from({ length: 100_000 - burst.length - placed }, (_, i) => banAddress(20_000 + i));
    for (let i = 0; i < more.length; i += 10_000) queue(a, more.slice(i, i + 10_000));
    const m = receivers[0]!;
    await waitStatus(m, (s) => s.active.total >= 100_000, 300_000);
    await sleep(3000);
    const rss = vm(m.service!.pid!, 'VmRSS');
    const heap = (JSON.parse(readFileSync(join(m.state, 'fleet-status.json'), 'utf8')) as { memory?: { heapUsed: number; heapTotal: number } }).memory;
    const hwm = vm(m.service!.pid!, 'VmHWM');
    const floor = nodeFloor();
    const budget = 1.5 * floor + 50 * 1024;
    out.push(row('RSS of a fleet service holding 100,000 active remote bans', `${mb(rss)} MB (peak ${mb(hwm)} MB; V8 heap ${mb((heap?.heapUsed ?? NaN) / 1024)} MB used of ${mb((heap?.heapTotal ?? NaN) / 1024)} MB)${NODE_OPTIONS ? `, run as the unit runs it: NODE_OPTIONS=${NODE_OPTIONS}` : ''}`, `< 1.5x node -e 0 (${mb(floor)} MB) + 50 MB = ${mb(budget)} MB`, rss < budget));

    // 4b. The same service restarting into those bans: its catch-up replays all 100k, then its reconcile reads the set.
    await stopService(m);
    await startService(m, cli);
    await waitStatus(m, (s) => s.pid === m.service?.pid && s.catchUp.done && s.reconcile !== undefined, 120_000);
    const restartPeak = vm(m.service!.pid!, 'VmHWM');
    out.push(row('peak RSS of that service restarting into its 100,000 active bans (the catch-up replays them all, then the reconcile reads the set)',
      `${mb(restartPeak)} MB (then ${mb(vm(m.service!.pid!, 'VmRSS'))} MB)`, `< the same ${mb(budget)} MB`, restartPeak < budget));

    // 5. Publishing from a verb: the outbox write it does, against connecting and publishing itself.
    const outboxMs: number[] = [];
    for (let i = 0; i < 20; i++) { const t = performance.now(); queue(a, [banAddress(130_000 + i)]); outboxMs.push(performance.now() - t); }
    const direct = directPublish(a, servers, ca, join(dir, 'h0.seed'), 10);
    outboxMs.sort((x, y) => x - y);
    out.push(row('publishing from a verb: writing the outbox file (median of 20)', `${quantile(outboxMs, 0.5).toFixed(2)} ms`, 'informs the design', true));
    out.push(row('publishing from a verb: loading the client, connecting with TLS, publishing, acked (median of 10)', `${direct.toFixed(0)} ms`, 'informs the design', true));

    const text = `# Fleet bench (${new Date().toISOString().slice(0, 10)}, load average ${load}, ${HOSTS} hosts on nftables, 3 nats-server ${serverVersion()} nodes)\n\n` +
      `\`npm run bench:fleet\` (bench/fleet/run.ts); times from \`nft monitor\` in each receiver's namespace.\n\n| measure | result | goal | |\n| --- | --- | --- | --- |\n${out.join('\n')}\n${note}`;
    mkdirSync(join(repo, 'bench/results/raw'), { recursive: true });
    writeFileSync(join(repo, 'bench/results/raw/fleet.json'), JSON.stringify(raw));
    writeFileSync(join(repo, process.env.FLEET_BENCH_OUT ?? 'bench/results/fleet.md'), text);
    process.stdout.write(text);
  } finally {
    await crowdsec?.stop();
    for (const h of hosts) { h.monitor?.kill('SIGKILL'); await stopService(h); }
    for (const n of nodes) await n.kill('SIGKILL').catch(() => undefined);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
    for (const n of names) rmSync(join('/dev/shm', `${lab.id}-${n}`), { recursive: true, force: true });
  }
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

function vm(pid: number, field: string): number {
  // The service is node under `ip netns exec`, which execs: the same pid.
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

/** `node -e 0`'s peak RSS (kB), the median of five. */
function nodeFloor(): number {
  const runs = Array.from({ length: 5 }, () => Number(spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '-e', '0'], { encoding: 'utf8' }).stderr.trim().split('\n').pop()));
  return quantile(runs.sort((x, y) => x - y), 0.5);
}

function serverVersion(): string {
  try { return execFileSync('nats-server', ['--version'], { encoding: 'utf8' }).trim().replace(/^nats-server: /, ''); } catch { return '?'; }
}

await main();
