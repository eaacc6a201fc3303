/**
 * Makes each peer of bench/lib/peers.ts ready in its own namespace: its private root (the hand-written configs with
 * the namespace's facts filled in, the package's own files copied beside them), its timing agent behind
 * `unshare -m --propagation private` and bench/peers/enter.sh's mounts, its one-off setup, and one untimed start to
 * prove it works. A peer that is not installed, or whose start fails, is skipped with the reason, never half-timed.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../../src/exec/which.js';
import type { BenchLab } from './lab.js';
import { fillIn, peerTemplate } from './nft-floors.js';
import type { Agent } from './ns.js';
import { PEERS, type PeerSpec, type PeerVerb, type Step } from './peers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
export const PEERS_DIR = join(repo, 'bench/peers');

export interface ReadyPeer {
  readonly spec: PeerSpec;
  readonly agent: Agent;
  /** Runs steps in the peer's agent; a failure is an error naming the step. */
  steps(steps: readonly Step[]): Promise<void>;
  /** A verb's argv with the private root and the peers directory filled in. */
  argv(verb: PeerVerb): string[];
}

export interface SkippedPeer { readonly spec: PeerSpec; readonly reason: string }

/** Sets up every peer; resolves once each is ready or skipped. */
export async function setUpPeers(lab: BenchLab, log: (line: string) => void): Promise<{ ready: ReadyPeer[]; skipped: SkippedPeer[] }> {
  const ready: ReadyPeer[] = [];
  const skipped: SkippedPeer[] = [];
  for (const spec of PEERS) {
    const reason = missing(spec);
    if (reason) { skipped.push({ spec, reason }); continue; }
    try {
      ready.push(await setUp(lab, spec));
    } catch (err) {
      skipped.push({ spec, reason: (err as Error).message.split('\n').slice(0, 3).join(' ') });
    }
    log(`peers: ${spec.name} ${ready.some((r) => r.spec === spec) ? 'ready' : `skipped (${skipped[skipped.length - 1]!.reason})`}`);
  }
  return { ready, skipped };
}

/** The package's file: installed, or from its unpacked copy. */
const packageFile = (spec: PeerSpec, path: string) =>
  existsSync(path) ? path : spec.unpacked !== undefined ? join(repo, spec.unpacked, path) : path;

function missing(spec: PeerSpec): string | undefined {
  const program = spec.needs.find((p) => which(p) === undefined);
  if (program) return `${program} is not installed (bench/peers/install.sh installs the peers, never started)`;
  const file = spec.copies.map(([from]) => packageFile(spec, from)).find((f) => !existsSync(f));
  if (file) return `${file} is missing (bench/peers/install.sh${spec.unpacked ? ` unpacks ${spec.name} under ${spec.unpacked}` : ''})`;
  return undefined;
}

async function setUp(lab: BenchLab, spec: PeerSpec): Promise<ReadyPeer> {
  const root = join(lab.dir, 'peers', spec.role);
  const fill = (s: string) => s.replace(/@ROOT@/g, root).replace(/@PEERS@/g, PEERS_DIR);
  const place = (to: string, text: string, mode: number) => {
    mkdirSync(dirname(join(root, to)), { recursive: true, mode: 0o755 });
    writeFileSync(join(root, to), text);
    chmodSync(join(root, to), mode);
  };
  mkdirSync(root, { recursive: true, mode: 0o755 });
  for (const [template, to] of spec.templates) place(to, fillIn(peerTemplate(template), { ip: lab.ips[spec.role] }), 0o644);
  for (const [from, to] of spec.copies) {
    const text = (spec.rewrites ?? []).reduce((t, [a, b]) => t.split(a).join(fill(b)), readFileSync(packageFile(spec, from), 'utf8'));
    place(to, text, 0o755);
  }
  for (const m of spec.mounts) if (m.startsWith('@ROOT@') && !existsSync(fill(m))) mkdirSync(fill(m), { recursive: true, mode: 0o755 });
  const wrap = spec.mounts.length === 0 ? [] : ['unshare', '-m', '--propagation', 'private', 'sh', join(PEERS_DIR, 'enter.sh'), ...spec.mounts.map(fill), '--'];
  const agent = await lab.peerAgent(spec.role, wrap);
  const steps = async (list: readonly Step[]) => {
    for (const s of list) {
      const r = await agent.send({ op: 'run', argv: s.argv.map(fill), input: s.input, timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`${spec.name}: ${s.argv.map(fill).join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
    }
  };
  if (spec.teardown) lab.onClose(() => steps(spec.teardown!));
  await steps(spec.setup);
  const peer: ReadyPeer = { spec, agent, steps, argv: (v) => v.argv.map(fill) };
  // One untimed start from boot state: a peer that cannot load the ruleset here is skipped, not timed.
  const start = spec.verbs.find((v) => v.verb === 'start')!;
  await steps(spec.reset);
  await steps([{ argv: start.argv }]);
  await steps(spec.reset);
  return peer;
}
