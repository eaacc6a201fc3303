/**
 * The per-packet probe, run inside lab namespaces only. `serve PORT LIFETIME_MS` answers every connection with one
 * line and closes (and exits by itself after its lifetime); `connect HOST PORT COUNT CONCURRENCY BUDGET_MS` opens
 * COUNT connections, CONCURRENCY at a time, each a full exchange (handshake, one line, close), so every packet
 * of it crosses the firewall's ban check. `compare PORT BATCHES PER_BATCH CONCURRENCY BUDGET_MS HOST...` does the
 * same in short batches that alternate between the hosts in a shuffled order, so the hosts are compared within
 * the same second rather than across noisy minutes. Bounded in count and time; prints one JSON line.
 */
import { connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'serve') {
  const [port, lifetime] = args.map(Number);
  const server = createServer((s) => {
    s.on('error', () => { /* a client that resets is not our concern */ });
    s.end('hello\n');
  });
  server.listen(port, '0.0.0.0', () => process.stdout.write('ready\n'));
  setTimeout(() => process.exit(0), lifetime).unref();
} else if (mode === 'connect') {
  const [host, port, count, concurrency, budget] = args;
  const r = await burst(host!, Number(port), Number(count), Number(concurrency), Date.now() + Number(budget));
  process.stdout.write(JSON.stringify({ ...r, perSecond: (r.done / r.ms) * 1000 }) + '\n');
} else if (mode === 'compare') {
  const [port, batches, perBatch, concurrency, budget, ...hosts] = args;
  const deadline = Date.now() + Number(budget);
  const rates: Record<string, number[]> = Object.fromEntries(hosts.map((h) => [h, []]));
  let failed = 0;
  for (let b = 0; b < Number(batches) && Date.now() < deadline; b++) {
    const order = [...hosts].sort(() => Math.random() - 0.5);
    for (const h of order) {
      const r = await burst(h, Number(port), Number(perBatch), Number(concurrency), deadline);
      failed += r.failed;
      rates[h]!.push((r.done / r.ms) * 1000);
    }
  }
  // A batch cut short by the deadline is not comparable: keep only batches every host completed.
  const n = Math.min(...hosts.map((h) => rates[h]!.length));
  process.stdout.write(JSON.stringify({ rates: Object.fromEntries(hosts.map((h) => [h, rates[h]!.slice(0, n)])), failed }) + '\n');
} else {
  process.stderr.write('usage: tcp.mjs serve PORT LIFETIME_MS | connect HOST PORT COUNT CONCURRENCY BUDGET_MS | compare PORT BATCHES PER_BATCH CONCURRENCY BUDGET_MS HOST...\n');
  process.exit(2);
}

/** COUNT full exchanges with host:port, CONCURRENCY at a time, stopping at the deadline. */
async function burst(host: string, port: number, count: number, concurrency: number, deadline: number) {
  let started = 0;
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  const one = () => new Promise<void>((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => { failed++; s.destroy(); resolve(); }, 2000);
    s.on('data', () => { /* drain */ });
    s.on('end', () => { clearTimeout(timer); done++; s.end(); resolve(); });
    s.on('error', () => { clearTimeout(timer); failed++; resolve(); });
  });
  const worker = async () => {
    while (started < count && Date.now() < deadline) { started++; await one(); }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, failed, ms: performance.now() - t0 };
}
