// Bundles the benchmark (TypeScript, importing src/ directly) into .cache/bench/ with the same esbuild the product
// uses, so `npm run bench` needs no TypeScript loader. The product itself is measured from dist/, as shipped.
import { build } from 'esbuild';
import { bundle } from '../scripts/bundle.mjs';

await build({
  entryPoints: { run: 'bench/run.ts', agent: 'bench/lib/agent.ts', tcp: 'bench/lib/tcp.ts', loadbans: 'bench/lib/loadbans.ts', fleet: 'bench/fleet/run.ts' },
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
// product's own entry and code cache (the product's own bundle recipe), so it pays for execa exactly what a verb pays.
await build({
  entryPoints: ['bench/lib/programs-raw.ts'], outfile: '.cache/bench/programs.cjs',
  bundle: true, format: 'cjs', platform: 'node', target: 'node18.19', minify: true, logLevel: 'warning',
});
await bundle('.cache/bench/execa-floor', { core: 'bench/lib/programs-execa.ts' });
