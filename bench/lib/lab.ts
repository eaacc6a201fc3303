/**
 * The bench's throwaway world: the test lab's namespaces (TEST-NET addresses, no route off the machine), one
 * timing agent in each, a temp dir for configs, and a teardown that removes it all even after a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from '../../test/harness/netns.js';
import { startAgent, type Agent } from './ns.js';
import type { Stages } from './programs.js';

/**
 * Namespaces by role: fw loads rulesets (tsfirewall on iptables-nft), nf the same on nftables, bn loads bans, p0/ps/pc
 * are the per-packet targets, cl the client.
 */
export const HOSTS = [
  { name: 'fw', segment: 'lan', octet: 10 },
  { name: 'p0', segment: 'lan', octet: 11 },
  { name: 'ps', segment: 'lan', octet: 12 },
  { name: 'pc', segment: 'lan', octet: 13 },
  { name: 'bn', segment: 'lan', octet: 14 },
  { name: 'nf', segment: 'lan', octet: 15 },
  { name: 'cl', segment: 'wan', octet: 20 },
] as const;
export type Role = (typeof HOSTS)[number]['name'];

/**
 * Namespaces whose agents the sections start themselves (`peerAgent`), the peers' behind their own private mounts
 * (bench/lib/peer-setup.ts): ts and tk for tsfirewall beside the peers (tn and kn on nftables), one for each peer
 * firewall, nt for the bare nft floors, bc for bans through the CLI, rn for reload with 10k bans on nftables.
 */
export const PEER_HOSTS = [
  { name: 'ts', segment: 'lan', octet: 16 },
  { name: 'tk', segment: 'lan', octet: 17 },
  { name: 'np', segment: 'lan', octet: 18 },
  { name: 'fe', segment: 'lan', octet: 19 },
  { name: 'uf', segment: 'lan', octet: 21 },
  { name: 'sw', segment: 'lan', octet: 22 },
  { name: 'fd', segment: 'lan', octet: 23 },
  { name: 'sd', segment: 'lan', octet: 24 },
  { name: 'nt', segment: 'lan', octet: 25 },
  { name: 'bc', segment: 'lan', octet: 26 },
  { name: 'tn', segment: 'lan', octet: 27 },
  { name: 'kn', segment: 'lan', octet: 28 },
  { name: 'rn', segment: 'lan', octet: 29 },
] as const;
export type PeerRole = (typeof PEER_HOSTS)[number]['name'];

export interface BenchLab {
  readonly agents: Readonly<Record<Role, Agent>>;
  readonly ips: Readonly<Record<Role | PeerRole, string>>;
  readonly dir: string;
  readonly paths: { readonly cli: string; readonly tcp: string; readonly loadbans: string; readonly programs: string; readonly execaFloor: string };
  /** Writes a config file and returns its path. */
  config(name: string, text: string): string;
  /** argv of one tsfirewall verb against a config file, as an operator would run it. */
  tsfw(verb: string, configPath: string): string[];
  /**
   * argv of a verb's floor (bench/lib/programs.ts) for these stages, launched bare or through the product's exec
   * path behind its own entry; the spec is written to the lab dir.
   */
  programs(name: string, stages: Stages, via: 'bare' | 'execa'): string[];
  /**
   * An agent in a peer's namespace, started through `wrap` (argv put before node, e.g. unshare and enter.sh's
   * mounts); closed at teardown, after `onClose` ran in it (stopping what the peer left running, by pid).
   */
  peerAgent(role: PeerRole, wrap: readonly string[]): Promise<Agent>;
  /** The one plain agent (no private mounts) of an extra namespace, started on first use. */
  agentIn(role: PeerRole): Promise<Agent>;
  /** Runs before the agents close: a peer's teardown (kill its daemons by pid). */
  onClose(fn: () => Promise<void>): void;
  /** A background probe server in a namespace; killed (by its pid) at teardown. */
  serve(role: Role, port: number, lifetimeMs: number): Promise<void>;
  destroy(): Promise<void>;
}

export async function createBenchLab(paths: { cli: string; agent: string; tcp: string; loadbans: string; programs: string; execaFloor: string }): Promise<BenchLab> {
  const lab: Lab = await createLab([...HOSTS, ...PEER_HOSTS]);
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-bench-'));
  const agents: Partial<Record<Role, Agent>> = {};
  const peerAgents: Agent[] = [];
  const plain = new Map<PeerRole, Promise<Agent>>();
  const closers: (() => Promise<void>)[] = [];
  const servers: ChildProcess[] = [];
  const destroy = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch((err: Error) => process.stderr.write(`bench teardown: ${err.message}\n`));
    for (const s of servers) if (s.pid !== undefined && s.exitCode === null) process.kill(s.pid, 'SIGKILL');
    for (const a of [...Object.values(agents), ...peerAgents]) a.close();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const h of HOSTS) agents[h.name] = await startAgent(lab.hosts[h.name]!.ns, paths.agent);
  } catch (err) {
    await destroy();
    throw err;
  }
  const peerAgent = async (role: PeerRole, wrap: readonly string[]) => {
    const agent = await startAgent(lab.hosts[role]!.ns, paths.agent, wrap);
    peerAgents.push(agent);
    return agent;
  };
  return {
    agents: agents as Record<Role, Agent>,
    ips: Object.fromEntries([...HOSTS, ...PEER_HOSTS].map((h) => [h.name, lab.hosts[h.name]!.ip])) as Record<Role | PeerRole, string>,
    dir,
    paths,
    config(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    tsfw: (verb, configPath) => [process.execPath, paths.cli, '--config', configPath, verb],
    programs(name, stages, via) {
      const spec = join(dir, `${name}.programs.json`);
      writeFileSync(spec, JSON.stringify(stages));
      return [process.execPath, via === 'bare' ? paths.programs : paths.execaFloor, spec];
    },
    peerAgent,
    agentIn(role) {
      if (!plain.has(role)) plain.set(role, peerAgent(role, []));
      return plain.get(role)!;
    },
    onClose(fn) { closers.push(fn); },
    async serve(role, port, lifetimeMs) {
      const child = spawn('ip', ['netns', 'exec', lab.hosts[role]!.ns, process.execPath, paths.tcp, 'serve', String(port), String(lifetimeMs)],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(child);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`probe server in ${role} did not start`)), 10_000);
        child.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
      });
    },
    destroy,
  };
}

/** Empty filter tables, all policies ACCEPT. */
export const OPEN_FILTER = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';

/** Empty raw and filter tables (the two the seed's ruleset uses), all policies ACCEPT: the boot state of a timed load. */
export const OPEN_TABLES = `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n${OPEN_FILTER}`;

export async function resetFirewall(agent: Agent): Promise<void> {
  await agent.must(['iptables-restore', '-w', '5'], OPEN_TABLES);
  await agent.must(['ip6tables-restore', '-w', '5'], OPEN_TABLES);
}
