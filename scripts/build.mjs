// Bundles the CLI into dist/ with esbuild: one small entry chunk plus lazily loaded per-verb chunks, so a cold
// start parses only what the verb needs and no node_modules are needed at run time. Targets Debian 12's Node 18.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { tsfirewall: 'src/cli/bin.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node18.19',
  minify: true,
  sourcemap: false,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  define: { __TSFW_VERSION__: JSON.stringify(pkg.version) },
  // Some CommonJS dependencies (winston) call require(); give the ESM bundle a real one.
  banner: { js: "import{createRequire as __tsfwRequire}from'node:module';const require=__tsfwRequire(import.meta.url);" },
  logLevel: 'warning',
});
