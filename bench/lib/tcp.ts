/**
 * The per-packet probe, run inside lab namespaces only. `serve PORT LIFETIME_MS` answers every connection with one
 * line and closes (and exits by itself after its lifetime); `connect HOST PORT COUNT CONCURRENCY BUDGET_MS` opens
 * COUNT connections, CONCURRENCY at a time, each a full exchange (handshake, one line, close), so every packet
 * of it crosses the firewall's ban check. Bounded in count and time; prints one JSON line.
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
  const [host, portS, countS, concS, budgetS] = args;
  const [port, count, concurrency, budget] = [portS, countS, concS, budgetS].map(Number) as [number, number, number, number];
  let started = 0;
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  const deadline = Date.now() + budget;
  const one = () => new Promise<void>((resolve) => {
    const s = connect({ host: host!, port });
    const timer = setTimeout(() => { failed++; s.destroy(); resolve(); }, 2000);
    s.on('data', () => { /* drain */ });
    s.on('end', () => { clearTimeout(timer); done++; s.end(); resolve(); });
    s.on('error', () => { clearTimeout(timer); failed++; resolve(); });
  });
  const worker = async () => {
    while (started < count && Date.now() < deadline) { started++; await one(); }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ done, failed, ms, perSecond: (done / ms) * 1000 }) + '\n');
} else {
  process.stderr.write('usage: tcp.mjs serve PORT LIFETIME_MS | connect HOST PORT COUNT CONCURRENCY BUDGET_MS\n');
  process.exit(2);
}
