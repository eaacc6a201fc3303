// Bundles the benchmark (TypeScript, importing src/ directly) into .cache/bench/ with the same esbuild the product
// uses, so `npm run bench` needs no TypeScript loader. The product itself is measured from dist/, as shipped.
import { mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { coreHash } from '../scripts/bundle.mjs';

await build({
  entryPoints: { run: 'bench/run.ts', agent: 'bench/lib/agent.ts', tcp: 'bench/lib/tcp.ts', loadbans: 'bench/lib/loadbans.ts' },
  outdir: '.cache/bench',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node18.19',
  outExtension: { '.js': '.mjs' },
  banner: { js: "import{createRequire as __r}from'node:module';const require=__r(import.meta.url);" },
  logLevel: 'warning',
});

// The floors start as the product does: the bare one from one CommonJS file, the execa one as core.cjs behind the
// product's own entry (src/cli/boot.ts, with its code cache), so it pays for execa exactly what a verb pays.
const cjs = { bundle: true, format: 'cjs', platform: 'node', target: 'node18.19', minify: true, logLevel: 'warning' };
await build({ ...cjs, entryPoints: ['bench/lib/programs-raw.ts'], outfile: '.cache/bench/programs.cjs' });
const core = await build({
  ...cjs, entryPoints: ['bench/lib/programs-execa.ts'], outfile: '.cache/bench/execa-floor/core.cjs', write: false,
  external: ['winston', 'systeminformation'], supported: { 'dynamic-import': false },
});
mkdirSync('.cache/bench/execa-floor', { recursive: true });
writeFileSync('.cache/bench/execa-floor/core.cjs', core.outputFiles[0].contents);
await build({
  ...cjs, entryPoints: ['src/cli/boot.ts'], outfile: '.cache/bench/execa-floor/tsfirewall.cjs',
  define: { __TSFW_CORE_HASH__: JSON.stringify(coreHash(core.outputFiles[0].contents)) },
});
