// Bundles the benchmark (TypeScript, importing src/ directly) into .cache/bench/ with the same esbuild the product
// uses, so `npm run bench` needs no TypeScript loader. The product itself is measured from dist/, as shipped.
import { build } from 'esbuild';

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

// The bare-programs floor starts as the product's entry does, from one CommonJS file.
await build({
  entryPoints: { programs: 'bench/lib/programs.ts' },
  outdir: '.cache/bench',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node18.19',
  outExtension: { '.js': '.cjs' },
  logLevel: 'warning',
});
