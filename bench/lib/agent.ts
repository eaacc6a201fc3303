/**
 * The timing agent: a long-lived Node process started inside one throwaway network namespace
 * (`ip netns exec NS node agent.mjs`). It runs the commands it is sent and times them itself, so the figures carry
 * no `ip netns exec` / setns cost and every program it starts inherits the namespace. Requests and replies are
 * JSON lines on stdin/stdout; argv arrays only, never a shell.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

export type AgentRequest =
  | { readonly id: number; readonly op: 'run'; readonly argv: readonly string[]; readonly input?: string;
      readonly env?: Readonly<Record<string, string>>; readonly timeoutMs?: number; readonly keepStdout?: boolean }
  | { readonly id: number; readonly op: 'seq'; readonly argvs: readonly (readonly string[])[]; readonly timeoutMs?: number };

export interface AgentReply {
  readonly id: number;
  readonly ms: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** For `seq`: how many of the commands exited non-zero. */
  readonly failures?: number;
}

// stderr keeps its tail: a traced verb's marks (TSFIREWALL_TRACE=1) are its last line.
const CLIP = 4096;
const CLIP_STDERR = 16_384;

// The whole point of the bench is that no rule ever lands in this machine's own namespace: refuse to run in the
// namespace of the bench process that started us (it passes its own; /proc/1 may not be readable).
const hostNs = process.env.TSFW_BENCH_HOST_NETNS;
if (!hostNs || readlinkSync('/proc/self/ns/net') === hostNs) {
  process.stderr.write('bench agent: refusing to run in the host network namespace\n');
  process.exit(99);
}

function runOne(argv: readonly string[], input: string | undefined, env: Readonly<Record<string, string>> | undefined, timeoutMs: number) {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8',
    env: env ? { ...process.env, ...env } : process.env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  return { code: r.status ?? (r.error ? 127 : 128), stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function handle(req: AgentRequest): AgentReply {
  if (req.op === 'run') {
    const t0 = performance.now();
    const r = runOne(req.argv, req.input, req.env, req.timeoutMs ?? 60_000);
    const ms = performance.now() - t0;
    return { id: req.id, ms, code: r.code, stdout: req.keepStdout ? r.stdout : r.stdout.slice(0, CLIP), stderr: r.stderr.slice(-CLIP_STDERR) };
  }
  // A sequence stops at its deadline so a runaway per-rule loop is bounded in time as well as count.
  const deadline = Date.now() + (req.timeoutMs ?? 120_000);
  let failures = 0;
  let firstError = '';
  let code = 0;
  const t0 = performance.now();
  for (const argv of req.argvs) {
    if (Date.now() > deadline) { code = 124; break; }
    const r = runOne(argv, undefined, undefined, 10_000);
    if (r.code !== 0) { failures++; firstError ||= `${argv.join(' ')}: ${r.stderr.trim()}`; }
  }
  const ms = performance.now() - t0;
  return { id: req.id, ms, code: code || (failures > 0 ? 1 : 0), stdout: '', stderr: firstError.slice(0, CLIP), failures };
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const reply = handle(JSON.parse(line) as AgentRequest);
  process.stdout.write(JSON.stringify(reply) + '\n');
});
lines.on('close', () => process.exit(0));
process.stdout.write(JSON.stringify({ id: 0, ms: 0, code: 0, stdout: 'ready', stderr: '' }) + '\n');
