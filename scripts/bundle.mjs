// The one definition of how the CLI is bundled (esbuild, ESM with code splitting: a small entry plus per-verb
// chunks loaded lazily, no node_modules at run time, Debian 12's Node 18). Used by `npm run build`, the packages'
// licence list and the container tests, which bundle into private directories.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

/**
 * dotenv loads node:crypto when it is loaded, only to decrypt .env.vault files, which tsfirewall never reads;
 * node:crypto costs ~10 ms of CPU on every verb. This hands dotenv a stand-in that loads the real module on first use.
 */
const lazyCryptoForDotenv = {
  name: 'lazy-crypto-for-dotenv',
  setup(b) {
    b.onResolve({ filter: /^(node:)?crypto$/ }, (args) =>
      /[\\/]node_modules[\\/]dotenv[\\/]/.test(args.importer) ? { path: 'lazy-crypto', namespace: 'tsfw-shim' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'tsfw-shim' }, () => ({
      loader: 'js',
      contents: "let real;module.exports=new Proxy({},{get(_t,name){real??=require('node:crypto');return real[name];}});",
    }));
  },
};

/** @param {string} outdir @param {{ version?: string, metafile?: boolean, write?: boolean, minify?: boolean }} [opts] */
export function bundle(outdir, opts = {}) {
  return build({
    absWorkingDir: root,
    entryPoints: { tsfirewall: 'src/cli/bin.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node18.19',
    // Unminified only for bench/profile.mjs, so a CPU profile names modules and functions.
    minify: opts.minify ?? true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    define: { __TSFW_VERSION__: JSON.stringify(opts.version ?? 'dev') },
    // Some CommonJS dependencies (winston) call require(); give the ESM bundle a real one.
    banner: { js: "import{createRequire as __tsfwRequire}from'node:module';const require=__tsfwRequire(import.meta.url);" },
    plugins: [lazyCryptoForDotenv],
    metafile: opts.metafile ?? false,
    write: opts.write ?? true,
    logLevel: 'warning',
  });
}
