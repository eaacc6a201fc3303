// Where a verb's time goes, by bundled module: `node bench/profile.mjs [--ns NETNS] [--warm] -- VERB [ARGS...]`.
// Builds an unminified copy of the CLI (scripts/bundle.mjs, so the same entry and plugins), runs the verb
// under `node --cpu-prof` (inside NETNS when given: never profile start/reload in this machine's own namespace), and
// charges every sample to the module whose code it was in (esbuild marks each module with a `// path` comment).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/bundle.mjs';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const opts = sep < 0 ? [] : argv.slice(0, sep);
const verbArgs = sep < 0 ? argv : argv.slice(sep + 1);
const ns = opts[opts.indexOf('--ns') + 1] && opts.includes('--ns') ? opts[opts.indexOf('--ns') + 1] : undefined;
if (verbArgs.length === 0) {
  process.stderr.write('usage: node bench/profile.mjs [--ns NETNS] -- VERB [ARGS...]\n');
  process.exit(2);
}
const repo = fileURLToPath(new URL('../', import.meta.url));
const out = join(repo, '.cache/bench/profile-dist');
rmSync(out, { recursive: true, force: true });
// The product's own bundle definition (same entry, same plugins), unminified so the profile names things.
await bundle(out, { version: 'profile', minify: false });
const profDir = mkdtempSync(join(tmpdir(), 'tsfw-prof-'));
// The code cache lives beside the profile build; --warm runs the verb once first, so the profile shows a warm cache.
const env = { ...process.env, TSFIREWALL_CACHE_DIR: join(out, 'v8-cache') };
const runIt = (cmd) => spawnSync(ns ? 'ip' : cmd[0], ns ? ['netns', 'exec', ns, ...cmd] : cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env });
if (opts.includes('--warm')) runIt([process.execPath, join(out, 'tsfirewall.cjs'), ...verbArgs]);
const r = runIt([process.execPath, '--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir', profDir, join(out, 'tsfirewall.cjs'), ...verbArgs]);
process.stderr.write(`exit ${r.status}\n`);
const profile = JSON.parse(readFileSync(join(profDir, readdirSync(profDir)[0]), 'utf8'));
rmSync(profDir, { recursive: true, force: true });

// line -> module, per bundled file
const moduleAt = new Map();
const moduleOf = (url, line) => {
  // core.cjs is compiled by the boot loader through node:vm, so the profile names it by path, not file: URL.
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (!file.startsWith('/') || !file.includes('profile-dist')) return url ? `node:${url.replace(/^node:/, '')}` : '(vm)';
  if (!moduleAt.has(url)) {
    const marks = [];
    readFileSync(file, 'utf8').split('\n').forEach((l, i) => {
      const m = /^\/\/ ((?:\S*?\/)?(?:src|node_modules)\/\S+)$/.exec(l);
      if (m) marks.push([i, m[1].replace(/^.*?node_modules\/((?:@[^/]+\/)?[^/]+).*/, 'npm:$1').replace(/^.*?(src\/)/, '$1')]);
    });
    moduleAt.set(url, marks);
  }
  let name = `${url.split('/').pop()} (glue)`;
  for (const [i, m] of moduleAt.get(url)) { if (i <= line) name = m; else break; }
  return name;
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
profile.samples.forEach((id, i) => {
  const { url, lineNumber, functionName } = byId.get(id).callFrame;
  const key = url ? moduleOf(url, lineNumber) : functionName || '(vm)';
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
// Inclusive time of our own functions (src/ modules): which step of the verb costs what.
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
profile.samples.forEach((id, i) => {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const { url, lineNumber, functionName } = byId.get(at).callFrame;
    const mod = url ? moduleOf(url, lineNumber) : '';
    if (!mod.startsWith('src/') || !functionName) continue;
    const key = `${functionName} (${mod})`;
    if (!seen.has(key)) { seen.add(key); inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0)); }
  }
});
const total = (profile.endTime - profile.startTime) / 1000;
process.stdout.write(`total ${total.toFixed(0)} ms of CPU profile; self time by module:\n`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${(v / 1000).toFixed(1).padStart(8)} ms  ${k}\n`);
process.stdout.write('inclusive time of src/ functions (samples taken while they were on the stack):\n');
for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 20)) process.stdout.write(`${(v / 1000).toFixed(1).padStart(8)} ms  ${k}\n`);
