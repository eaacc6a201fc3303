/**
 * The fleet lab: three clustered nats-server nodes with TLS and one nkey user per host (the config docs/fleet.md
 * shows), five tsfirewall hosts on the three backends, each in its own namespace with its own fleet service, and an
 * attacker. Everything on TEST-NET addresses inside this machine; torn down in afterAll.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { fleetNodeConfig, makePki, startNode, userKeys, type NodeSpec, type RunningNode } from '../harness/nats.js';
import { until } from '../harness/poll.js';
import { isIptables, mustExec, tsfw, tsfwEnv, tsfwOk, type BackendName } from './helpers.js';

export const NODES: readonly NodeSpec[] = [
  { name: 'n1', ip: '198.51.100.41' }, { name: 'n2', ip: '198.51.100.42' }, { name: 'n3', ip: '198.51.100.43' },
];
export interface FleetHostSpec { readonly name: string; readonly fleet: string; readonly octet: number; readonly backend: BackendName; readonly extra?: string }
/** Five hosts, the three backends among them: a fleet need not run one backend. */
export const HOSTS: readonly FleetHostSpec[] = [
  { name: 'a', fleet: 'hostA', octet: 11, backend: 'nftables' },
  { name: 'b', fleet: 'hostB', octet: 12, backend: 'iptables-nft', extra: 'TRUSTED_NETS=203.0.113.0/24\n' },
  { name: 'c', fleet: 'hostC', octet: 13, backend: 'iptables-legacy', extra: 'TRUSTED_NETS=203.0.113.0/24\n' },
  { name: 'd', fleet: 'hostD', octet: 14, backend: 'nftables', extra: 'TRUSTED_NETS=203.0.113.0/24\n' },
  // Short bans: the catch-up test needs bans that end while a host is away.
  { name: 'e', fleet: 'hostE', octet: 15, backend: 'iptables-nft', extra: 'TRUSTED_NETS=203.0.113.0/24\nSERVICE_SSH_JAIL_BANTIME=5\n' },
];
export const ATTACKER_IP = '198.51.100.66';

export interface FleetHost extends FleetHostSpec {
  readonly host: Host;
  readonly config: string;
  readonly seed: string;
  running?: ResultPromise;
  /** What the running service has printed so far, for a failure's message. */
  output: string;
}

export interface FleetLab {
  readonly lab: Lab;
  readonly dir: string;
  readonly ca: string;
  readonly hosts: Record<string, FleetHost>;
  readonly attacker: Host;
  nodes: Record<string, RunningNode>;
  startNode(name: string): Promise<void>;
  destroy(): Promise<void>;
}

export const natsPath = createRequire(import.meta.url).resolve('nats');

export interface FleetLabOptions {
  /** The host's FAIL2BAN line and any keys of its own (default FAIL2BAN=no). */
  readonly hostConfig?: (h: FleetHostSpec) => string;
  /** How the host's commands run (a private mount namespace for a fail2ban of its own). */
  readonly wrap?: (h: FleetHostSpec, host: Host) => Host;
}

export async function createFleetLab(cli: string, opts: FleetLabOptions = {}): Promise<FleetLab> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-fleet-'));
  const lab = await createLab([
    ...HOSTS.map((h) => ({ name: h.name, segment: 'lan' as const, octet: h.octet })),
    ...NODES.map((n) => ({ name: n.name, segment: 'wan' as const, octet: Number(n.ip.split('.')[3]) })),
    { name: 'attacker', segment: 'wan', octet: 66 },
  ]);
  const nodesRunning: Record<string, RunningNode> = {};
  try {
    const ca = await makePki(dir, NODES);
    const keys = await Promise.all(HOSTS.map(() => userKeys()));
    const users = HOSTS.map((h, i) => ({ host: h.fleet, nkey: keys[i]!.publicKey }));
    const startOne = async (name: string) => {
      const node = NODES.find((n) => n.name === name)!;
      nodesRunning[name] = await startNode(lab.hosts[name]!, node, fleetNodeConfig({ node, nodes: NODES, dir, users }), dir);
    };
    await Promise.all(NODES.map((n) => startOne(n.name)));
    const hosts: Record<string, FleetHost> = {};
    for (const [i, h] of HOSTS.entries()) {
      const seed = join(dir, `${h.fleet}.seed`);
      writeFileSync(seed, `${keys[i]!.seed}\n`, { mode: 0o600 });
      const config = join(dir, `${h.name}.conf`);
      writeFileSync(config, `${opts.hostConfig?.(h) ?? 'FAIL2BAN=no\n'}BAN_MODE=ipset\nSERVICES=ssh\nSERVICE_SSH_RATE_LIMIT=no\nTRUST_LOCAL_SUBNET=no\n${h.extra ?? ''}` +
        `FLEET_SERVERS=${NODES.map((n) => `tls://${n.ip}:4222`).join(',')}\nFLEET_CREDS=${seed}\nFLEET_TLS_CA=${ca}\nFLEET_NAME=${h.fleet}\n`);
      const host = opts.wrap?.(h, lab.hosts[h.name]!) ?? lab.hosts[h.name]!;
      hosts[h.name] = { ...h, host, config, seed, output: '' };
    }
    for (const h of Object.values(hosts)) await tsfwOk(cli, h.host, h.backend, ['start'], h.config);
    return {
      lab, dir, ca, hosts, attacker: lab.hosts.attacker!, nodes: nodesRunning,
      startNode: startOne,
      destroy: async () => {
        for (const h of Object.values(hosts)) await stopFleet(h);
        for (const n of Object.values(nodesRunning)) await n.kill('SIGKILL').catch(() => undefined);
        await lab.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const n of Object.values(nodesRunning)) await n.kill('SIGKILL').catch(() => undefined);
    await lab.destroy();
    throw err;
  }
}

/** The fleet status a host's service last wrote (`fleet status --json`). */
export async function fleetStatus(cli: string, h: FleetHost): Promise<{ running: boolean; status: any }> {
  const r = await tsfw(cli, h.host, h.backend, ['--json', 'fleet', 'status'], h.config);
  return JSON.parse(r.stdout);
}

/** Starts the host's `tsfirewall fleet` and waits (bounded) until it is connected and has caught up. */
export async function startFleet(cli: string, h: FleetHost): Promise<void> {
  h.running = execa('ip', ['netns', 'exec', h.host.ns, process.execPath, cli, '--config', h.config, 'fleet'], {
    env: { ...tsfwEnv(cli, h.backend, h.host.ns), TSFIREWALL_LOG_LEVEL: process.env.FLEET_TEST_LOG ?? 'info' }, reject: false, stdin: 'ignore', all: true,
  });
  h.output = '';
  h.running.all?.on('data', (d: Buffer) => { h.output = (h.output + d.toString()).slice(-20_000); });
  await until(`${h.fleet}'s fleet service connected and caught up`, async () => {
    if (h.running?.exitCode !== undefined && h.running.exitCode !== null) throw new Error(`fleet service of ${h.fleet} exited: ${(await h.running).all}`);
    const s = await fleetStatus(cli, h).catch(() => undefined);
    return s?.running === true && s.status?.connection?.state === 'connected' && s.status?.catchUp?.done === true;
  }, 120).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${h.output}\n${JSON.stringify((await fleetStatus(cli, h).catch(() => undefined))?.status)}`);
  });
}

/** SIGTERM, as systemd stops the unit; resolves to its exit code and output. */
export async function stopFleet(h: FleetHost): Promise<{ exitCode?: number; all?: string }> {
  const child = h.running;
  h.running = undefined;
  if (!child) return {};
  child.kill('SIGTERM');
  const r = await child;
  return { exitCode: r.exitCode, all: String(r.all ?? '') };
}

/** Whether the host's ban set holds `ip` (the kernel's own answer). */
export async function banned(h: FleetHost, ip: string): Promise<boolean> {
  const argv = isIptables(h.backend) ? ['ipset', 'test', 'f2b-SSH', ip] : ['nft', 'get', 'element', 'inet', 'tsfirewall', 'f2b-SSH', `{ ${ip} }`];
  return (await h.host.exec(argv, { timeoutMs: 30_000 })).exitCode === 0;
}

/** How many of `ips` the host's ban set holds, from one listing. */
export async function bannedCount(h: FleetHost, ips: readonly string[]): Promise<number> {
  const text = isIptables(h.backend) ? await mustExec(h.host, ['ipset', 'list', 'f2b-SSH']) : await mustExec(h.host, ['nft', 'list', 'set', 'inet', 'tsfirewall', 'f2b-SSH']);
  const present = new Set(text.match(/\d+\.\d+\.\d+\.\d+/g) ?? []);
  return ips.filter((ip) => present.has(ip)).length;
}

/**
 * Publishes raw messages with the nats client from inside a host's namespace, as a misbehaving or forged host
 * would: `seed` (or none) for the credentials. Resolves to what happened to each: 'acked' (stored) or the error.
 */
export async function publishRaw(h: Host, ca: string, seed: string | undefined, messages: readonly { subject: string; data: string }[]): Promise<string[]> {
  const code = `const n=require(${JSON.stringify(natsPath)});const fs=require('fs');(async()=>{const out=[];let nc;` +
    `try{nc=await n.connect({servers:${JSON.stringify(NODES.map((x) => `${x.ip}:4222`))},tls:{caFile:${JSON.stringify(ca)},checkServerIdentity:()=>undefined},timeout:5000,maxReconnectAttempts:2,` +
    `${seed ? `authenticator:n.nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(${JSON.stringify(seed)},'utf8').trim())),` : ''}});}` +
    `catch(e){console.log(JSON.stringify(['connect: '+e.message]));process.exit(0)}` +
    `const js=nc.jetstream();for(const m of ${JSON.stringify(messages)}){try{await js.publish(m.subject,m.data,{timeout:5000});out.push('acked')}catch(e){out.push(e.message)}}` +
    `console.log(JSON.stringify(out));await nc.close();process.exit(0)})()`;
  const r = await h.exec([process.execPath, '-e', code], { timeoutMs: 60_000 });
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]');
}

export { listen };
