/**
 * The parent's side of a timing agent: one agent per namespace, one request at a time (the machine has two
 * cores; overlapping measurements would only measure each other).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AgentReply, AgentRequest } from './agent.js';

type Req = AgentRequest extends infer R ? R extends { id: number } ? Omit<R, 'id'> : never : never;

export interface Agent {
  readonly ns: string;
  send(req: Req): Promise<AgentReply>;
  /** Runs argv and fails loudly on a non-zero exit: for setup steps, whose failure makes every figure meaningless. */
  must(argv: readonly string[], input?: string): Promise<AgentReply>;
  close(): void;
}

/** Starts an agent in namespace `ns`, behind `wrap` (argv before node: unshare and enter.sh's mounts for a peer). */
export async function startAgent(ns: string, agentPath: string, wrap: readonly string[] = []): Promise<Agent> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, ...wrap, process.execPath, agentPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TSFW_BENCH_HOST_NETNS: readlinkSync('/proc/self/ns/net') },
  });
  const waiting = new Map<number, (r: AgentReply) => void>();
  let next = 1;
  let ready!: () => void;
  const readyP = new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`agent in ${ns} exited ${code}`)));
    setTimeout(() => reject(new Error(`agent in ${ns} did not start`)), 15_000).unref();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const reply = JSON.parse(line) as AgentReply;
    if (reply.id === 0) { ready(); return; }
    waiting.get(reply.id)?.(reply);
    waiting.delete(reply.id);
  });
  await readyP;
  const agent: Agent = {
    ns,
    send(req) {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, resolve);
        child.stdin!.write(JSON.stringify({ ...req, id }) + '\n', (err) => { if (err) reject(err); });
      });
    },
    async must(argv, input) {
      const r = await agent.send({ op: 'run', argv, input, keepStdout: true });
      if (r.code !== 0) throw new Error(`[${ns}] ${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
      return r;
    },
    close() { child.stdin!.end(); },
  };
  return agent;
}
