// The one definition of how the CLI is bundled (esbuild, no node_modules at run time, Debian 12's Node 18): the whole
// CLI in one CommonJS file, core.cjs, whose verbs and heavy dependencies esbuild keeps lazy (initialised on first
// use), and a small entry, tsfirewall.cjs (src/cli/boot.ts), that compiles core.cjs with a V8 code cache. CommonJS
// because that is what node:vm can compile with a cache on Node 18 and 20 (ESM cannot), and a CommonJS entry starts
// ~9 ms sooner than an ESM one. Used by `npm run build`, the packages' licence list and the container tests.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
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

/**
 * human-signals (execa's) builds, as it is imported, a by-number table of signals that nothing bundled reads (execa
 * reads signalsByName): thousands of calls of one small function, enough for V8 to compile it with TurboFan, whose
 * code and memory every verb that runs a program then carried in its peak RSS. An import of it would fail the build.
 */
const signalsByNameOnly = {
  name: 'human-signals-by-name-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]human-signals[\\/]build[\\/]src[\\/]main\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const table = 'export const signalsByNumber=getSignalsByNumber();';
      if (!text.includes(table)) throw new Error(`${args.path}: no "${table}" to leave out (human-signals changed: update scripts/bundle.mjs)`);
      return { loader: 'js', contents: text.replace(table, '') };
    });
  },
};

/**
 * Off every hot path (winston: only when a diagnostic is logged; systeminformation: a discovery fallback;
 * prom-client: only `metrics`; nats: the fleet service only), so each is its own file that core.cjs requires on
 * first use: every verb then reads, decodes and code-caches that much less. A file apart is compiled without the
 * code cache, so execa, which every program goes through, stays in core.cjs (initialised on a verb's first program).
 */
const APART = ['winston', 'systeminformation', 'prom-client', 'nats'];
const apart = {
  name: 'vendored-apart',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${APART.join('|')})$`) }, (args) => ({ path: `./${args.path}.cjs`, external: true }));
  },
};

/**
 * koffi (the FFI that calls libnftables in process) is a native module: the bundle requires its binary for this
 * machine, copied beside core.cjs, rather than the package's entry, which loads https and zlib for its installer
 * before it finds that binary. The packages are built per architecture for the same reason.
 */
const KOFFI_NATIVE = 'koffi.node';
const koffiNative = {
  name: 'koffi-native',
  setup(b) {
    b.onResolve({ filter: /^koffi$/ }, () => ({ path: `./${KOFFI_NATIVE}`, external: true }));
  },
};

/** This machine's koffi binary in the koffi package (its build/koffi/<platform>_<arch>/ directory). */
function koffiBinary() {
  const dir = join(dirname(createRequire(import.meta.url).resolve('koffi/package.json')), 'build', 'koffi');
  const arch = { arm: 'armhf', riscv64: 'riscv64d' }[process.arch] ?? process.arch;
  const file = join(dir, `${process.platform}_${arch}`, KOFFI_NATIVE);
  if (!existsSync(file)) throw new Error(`koffi has no binary for ${process.platform}_${arch} (looked for ${file})`);
  return file;
}

/** The stamp of a core.cjs in its entry (the code cache's key); test/integration/helpers.ts checks copies by it. */
export const coreHash = (/** @type {Uint8Array} */ bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/**
 * Builds core.cjs, then the entry stamped with core.cjs's content hash (the code cache's key), into `outdir`.
 * Resolves to core.cjs's build result, with a metafile that lists the npm packages in every file shipped. `core`
 * swaps the CLI for another program behind the same entry (the bench's execa floor pays what a verb pays).
 * @param {string} outdir @param {{ version?: string, metafile?: boolean, write?: boolean, minify?: boolean, core?: string }} [opts]
 */
export async function bundle(outdir, opts = {}) {
  const common = {
    absWorkingDir: root,
    outdir,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node18.19',
    // Unminified only for bench/profile.mjs, so a CPU profile names modules and functions.
    minify: opts.minify ?? true,
    outExtension: { '.js': '.cjs' },
    write: false,
    logLevel: 'warning',
  };
  const core = await build({
    ...common,
    entryPoints: { core: opts.core ?? 'src/cli/bin.ts' },
    define: { __TSFW_VERSION__: JSON.stringify(opts.version ?? 'dev') },
    // core.cjs is written as the function the boot loader compiles, so the loader hands V8 the file's text as read
    // instead of a second copy, the same size, concatenated into its wrapper (both held until a full GC).
    banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
    footer: { js: '})' },
    plugins: [lazyCryptoForDotenv, signalsByNameOnly, apart, koffiNative],
    // import() of the files apart becomes require(): node:vm, which compiles core.cjs, has no module loader.
    supported: { 'dynamic-import': false },
    metafile: opts.metafile ?? false,
  });
  const vendored = await Promise.all(APART.map((name) => build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root, sourcefile: `${name}-apart.js` },
    outfile: `${outdir}/${name}.cjs`,
    outdir: undefined,
    metafile: opts.metafile ?? false,
  })));
  const hash = coreHash(core.outputFiles[0].contents);
  const entry = await build({
    ...common,
    entryPoints: { tsfirewall: 'src/cli/boot.ts' },
    define: { __TSFW_CORE_HASH__: JSON.stringify(hash) },
  });
  if (opts.write ?? true) {
    for (const file of [...core.outputFiles, ...entry.outputFiles, ...vendored.flatMap((v) => v.outputFiles)]) {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.contents);
    }
    // The launcher's cached start lives beside the bundle it keys on, as the packages install it.
    const out = isAbsolute(outdir) ? outdir : join(root, outdir);
    copyFileSync(join(root, 'packaging/cached-start.sh'), join(out, 'cached-start.sh'));
    copyFileSync(koffiBinary(), join(out, KOFFI_NATIVE));
  }
  // One metafile for the licence list: every npm package that ships, in core.cjs or apart.
  const metafile = core.metafile && {
    inputs: Object.assign({}, core.metafile.inputs, ...vendored.map((v) => v.metafile.inputs)),
    outputs: Object.assign({}, core.metafile.outputs, ...vendored.map((v) => v.metafile.outputs)),
  };
  return { ...core, metafile };
}
