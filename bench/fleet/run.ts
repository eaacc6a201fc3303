/**
 * `npm run bench:fleet`: the fleet's speed and memory with the real engine, side by side in one run. Three clustered
 * nats-server nodes (TLS, one nkey user per host: the config docs/fleet.md shows) and HOSTS tsfirewall hosts on
 * nftables, each in its own lab namespace with its own fleet service; times are taken from `nft monitor` in each
 * receiver's namespace, so no poll adds its period. Writes bench/results/fleet.md (and raw samples under raw/).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { banAddress } from '../../test/harness/ban-addresses.js';
import { createLab, type Host } from '../../test/harness/netns.js';
import { fleetNodeConfig, makePki, startNode, userKeys, type NodeSpec, type RunningNode } from '../../test/harness/nats.js';
import { quantile } from '../lib/stats.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const HOSTS = Number(process.env.FLEET_BENCH_HOSTS ?? 6);
const ROUNDS = Number(process.env.FLEET_BENCH_ROUNDS ?? 60);
const NODES: NodeSpec[] = [{ name: 'n1', ip: '198.51.100.41' }, { name: 'n2', ip: '198.51.100.42' }, { name: 'n3', ip: '198.51.100.43' }];
const names = Array.from({ length: HOSTS }, (_, i) => `h${i}`);
/** The Node options tsfirewall-fleet.service runs the service with, so the bench measures it as shipped. */
const NODE_OPTIONS = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(repo, 'systemd/tsfirewall-fleet.service'), 'utf8'))?.[1]?.replace(/^"|"$/g, '') ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BHost { name: string; host: Host; env: Record<string, string>; config: string; state: string; service?: ChildProcess; seen: Map<string, number>; monitor?: ChildProcess }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-fleet-bench-'));
  const dist = join(dir, 'dist');
  cpSync(join(repo, 'dist'), dist, { recursive: true });
  const cli = join(dist, 'tsfirewall.cjs');
  const lab = await createLab([
    ...names.map((n, i) => ({ name: n, segment: 'lan' as const, octet: 11 + i })),
    ...NODES.map((n) => ({ name: n.name, segment: 'wan' as const, octet: Number(n.ip.split('.')[3]) })),
  ]);
  const nodes: RunningNode[] = [];
  const hosts: BHost[] = [];
  const out: string[] = [];
  const raw: Record<string, unknown> = {};
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
      const h: BHost = { name: n, host: lab.hosts[n]!, env, config, state, seen: new Map() };
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

    // 1. Propagation: one ban at a time queued on a (as the verb queues it), until it is in every receiver's set.
    const lat: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const ip = banAddress(i);
      const t0 = queue(a, [ip]);
      const times = await allSeen(receivers, [ip], 30_000);
      for (const t of times) lat.push(t - t0);
      await sleep(50);
    }
    lat.sort((x, y) => x - y);
    raw.propagation = lat;
    const p50 = quantile(lat, 0.5);
    const p99 = quantile(lat, 0.99);
    out.push(row(`propagation, one ban on h0 to the set on each of ${receivers.length} hosts (${lat.length} samples)`, `p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`, 'p99 < 250 ms', p99 < 250));

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
      const designs = catchUpDesigns(a, ca, join(dir, 'h0.seed'));
      out.push(row(`catch-up designs, a fresh client reading the stream's ${designs.n} events: replay of the latest per subject (the service's) / a durable consumer delivering them all (median of 5 each)`,
        `${designs.replay.toFixed(0)} ms / ${designs.durable.toFixed(0)} ms`, 'informs the design', true));
    } catch (err) {
      out.push(row('catch-up designs side by side', `not measured: ${String((err as Error).message).split('\n')[0]!.slice(0, 200)}`, 'informs the design', false));
    }

    // 4. Memory of a receiver's fleet service at 100k active bans.
    const more = Array.from({ length: 100_000 - burst.length - ROUNDS }, (_, i) => banAddress(20_000 + i));
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

    // 5. Publishing from a verb: the outbox write it does, against connecting and publishing itself.
    const outboxMs: number[] = [];
    for (let i = 0; i < 20; i++) { const t = performance.now(); queue(a, [banAddress(130_000 + i)]); outboxMs.push(performance.now() - t); }
    const direct = directPublish(a, ca, join(dir, 'h0.seed'), 10);
    outboxMs.sort((x, y) => x - y);
    out.push(row('publishing from a verb: writing the outbox file (median of 20)', `${quantile(outboxMs, 0.5).toFixed(2)} ms`, 'informs the design', true));
    out.push(row('publishing from a verb: loading the client, connecting with TLS, publishing, acked (median of 10)', `${direct.toFixed(0)} ms`, 'informs the design', true));

    const text = `# Fleet bench (${new Date().toISOString().slice(0, 10)}, load average ${load}, ${HOSTS} hosts on nftables, 3 nats-server ${serverVersion()} nodes)\n\n` +
      `\`npm run bench:fleet\` (bench/fleet/run.ts); times from \`nft monitor\` in each receiver's namespace.\n\n| measure | result | goal | |\n| --- | --- | --- | --- |\n${out.join('\n')}\n`;
    mkdirSync(join(repo, 'bench/results/raw'), { recursive: true });
    writeFileSync(join(repo, 'bench/results/raw/fleet.json'), JSON.stringify(raw));
    writeFileSync(join(repo, process.env.FLEET_BENCH_OUT ?? 'bench/results/fleet.md'), text);
    process.stdout.write(text);
  } finally {
    for (const h of hosts) { h.monitor?.kill('SIGKILL'); await stopService(h); }
    for (const n of nodes) await n.kill('SIGKILL').catch(() => undefined);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const row = (what: string, got: string, goal: string, ok: boolean) => {
  const line = `| ${what} | ${got} | ${goal} | ${ok ? '**PASS**' : '**MISS**'} |`;
  process.stderr.write(`${line}\n`);
  return line;
};
const mb = (kb: number) => (kb / 1024).toFixed(1);

/** What the ban verbs do after the kernel has the ban (src/bans/outbox.ts's file, as queueLines writes it). */
function queue(h: BHost, ips: readonly string[]): number {
  const dir = join(h.state, 'fleet-outbox');
  const now = Date.now();
  const name = `${(now / 1000).toFixed(3)}.bench.${process.pid}.${Math.random().toString(16).slice(2, 8)}`;
  writeFileSync(join(dir, 'tmp', name), ips.map((ip) => JSON.stringify({ op: 'ban', jail: 'ssh', ip, at: now / 1000, bantime: 3600, reason: 'bench' })).join('\n') + '\n');
  renameSync(join(dir, 'tmp', name), join(dir, 'new', name));
  return now;
}

function watchSet(h: BHost): void {
  h.monitor = spawn('ip', ['netns', 'exec', h.host.ns, 'nft', 'monitor', 'elements'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let rest = '';
  h.monitor.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const now = Date.now();
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('add element')) for (const ip of l.match(/\d+\.\d+\.\d+\.\d+/g) ?? []) if (!h.seen.has(ip)) h.seen.set(ip, now);
  });
}

/** When the last of `ips` arrived on each host. */
async function allSeen(hs: readonly BHost[], ips: readonly string[], ceiling: number): Promise<number[]> {
  for (const deadline = Date.now() + ceiling; Date.now() < deadline;) {
    if (hs.every((h) => ips.every((ip) => h.seen.has(ip)))) return hs.map((h) => Math.max(...ips.map((ip) => h.seen.get(ip)!)));
    await sleep(5);
  }
  throw new Error(`not all ${ips.length} bans arrived within ${ceiling} ms`);
}

async function startService(h: BHost, cli: string): Promise<void> {
  h.service = spawn('ip', ['netns', 'exec', h.host.ns, process.execPath, cli, '--config', h.config, 'fleet'], { env: { ...h.env, ...(NODE_OPTIONS ? { NODE_OPTIONS } : {}) }, stdio: 'ignore' });
}
async function stopService(h: BHost): Promise<void> {
  const s = h.service;
  h.service = undefined;
  if (!s || s.exitCode !== null) return;
  await new Promise<void>((resolve) => { s.once('exit', () => resolve()); s.kill('SIGTERM'); setTimeout(() => { s.kill('SIGKILL'); resolve(); }, 30_000).unref(); });
}
async function waitStatus(h: BHost, ok: (s: any) => boolean, ceiling: number): Promise<void> {
  for (const deadline = Date.now() + ceiling; Date.now() < deadline; await sleep(250)) {
    try { if (ok(JSON.parse(readFileSync(join(h.state, 'fleet-status.json'), 'utf8')))) return; } catch { /* not written yet */ }
  }
  throw new Error(`${h.name}: status not reached within ${ceiling} ms`);
}
const caughtUp = (h: BHost) => waitStatus(h, (s) => s.connection.state === 'connected' && s.catchUp.done, 120_000);

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

/** A verb that published itself: a fresh node, the client loaded, a TLS connect with the host's key, one acked publish. */
function directPublish(h: BHost, ca: string, seed: string, n: number): number {
  const nats = join(repo, 'node_modules/nats/index.js');
  const code = `const t=performance.now();const n=require(${JSON.stringify(nats)});const fs=require('fs');(async()=>{` +
    `const nc=await n.connect({servers:${JSON.stringify(NODES.map((x) => `${x.ip}:4222`))},tls:{caFile:${JSON.stringify(ca)},checkServerIdentity:()=>undefined},` +
    `authenticator:n.nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(${JSON.stringify(seed)},'utf8').trim()))});` +
    `await nc.jetstream().publish('tsfw.bans.h0.ssh.198_18_250_1',JSON.stringify({v:1}));await nc.close();console.log(performance.now()-t)})()`;
  const times = Array.from({ length: n }, () => {
    const t0 = performance.now();
    execFileSync('ip', ['netns', 'exec', h.host.ns, process.execPath, '-e', code], { encoding: 'utf8' });
    return performance.now() - t0;
  }).sort((x, y) => x - y);
  return quantile(times, 0.5);
}

/**
 * Times reading the whole stream two ways, in one node process in h0's namespace with h0's key: an ordered consumer
 * with DeliverPolicy.LastPerSubject, and a durable pull consumer (a new name per round, deleted after) with
 * DeliverPolicy.All. Neither acknowledges (h0 may not publish acks), so both pay delivery only.
 */
function catchUpDesigns(h: BHost, ca: string, seed: string): { n: number; replay: number; durable: number } {
  const nats = join(repo, 'node_modules/nats/index.js');
  const code = `const n=require(${JSON.stringify(nats)});const fs=require('fs');(async()=>{` +
    `const nc=await n.connect({servers:${JSON.stringify(NODES.map((x) => `${x.ip}:4222`))},tls:{caFile:${JSON.stringify(ca)},checkServerIdentity:()=>undefined},` +
    `authenticator:n.nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(${JSON.stringify(seed)},'utf8').trim()))});` +
    `const js=nc.jetstream();const jsm=await nc.jetstreamManager();const total=(await jsm.streams.info('TSFW_BANS')).state.messages;` +
    `const read=async(c)=>{const t=performance.now();const it=await c.consume({max_messages:2000});let k=0;for await(const m of it){k++;if(m.info.pending===0)break}return [performance.now()-t,k]};` +
    `const r=[],d=[];for(let i=0;i<5;i++){` +
    `r.push((await read(await js.consumers.get('TSFW_BANS',{filterSubjects:'tsfw.bans.>',deliver_policy:n.DeliverPolicy.LastPerSubject})))[0]);` +
    `const name='bench'+i+Date.now();await jsm.consumers.add('TSFW_BANS',{durable_name:name,filter_subject:'tsfw.bans.>',ack_policy:n.AckPolicy.None,deliver_policy:n.DeliverPolicy.All});` +
    `d.push((await read(await js.consumers.get('TSFW_BANS',name)))[0]);await jsm.consumers.delete('TSFW_BANS',name).catch(()=>{})}` +
    `const med=(a)=>a.sort((x,y)=>x-y)[2];console.log(JSON.stringify({n:total,replay:med(r),durable:med(d)}));await nc.close()})()`;
  const text = execFileSync('ip', ['netns', 'exec', h.host.ns, process.execPath, '-e', code], { encoding: 'utf8', timeout: 300_000 });
  return JSON.parse(text.trim().split('\n').pop()!) as { n: number; replay: number; durable: number };
}

function serverVersion(): string {
  try { return execFileSync('nats-server', ['--version'], { encoding: 'utf8' }).trim().replace(/^nats-server: /, ''); } catch { return '?'; }
}

await main();
