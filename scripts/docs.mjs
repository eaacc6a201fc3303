// The man page and the bash completion, made at build time from the CLI's command and option tables
// (src/cli/verbs.ts, src/cli/options.ts) by src/cli/help/: dist/tsfirewall.8 (packaging/tsfirewall.8.in with its
// COMMANDS and OPTIONS put in) and dist/tsfirewall.bash-completion. Used by `npm run build` (scripts/build.mjs).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

/** Only the tables and the renderers: the verbs' code is never run here, so it is left out of the bundle. */
const noCommands = {
  name: 'no-commands',
  setup(b) { b.onResolve({ filter: /\/commands\// }, (args) => ({ path: args.path, external: true })); },
};

/** Writes both files into `outdir`; resolves to their paths. */
export async function docs(outdir) {
  const work = mkdtempSync(join(tmpdir(), 'tsfw-docs-'));
  try {
    const out = join(work, 'docs.mjs');
    await build({
      absWorkingDir: root,
      stdin: {
        contents: "export { manPage } from './src/cli/help/man.ts'; export { bashCompletion } from './src/cli/help/completion.ts';",
        resolveDir: root, sourcefile: 'docs-entry.ts', loader: 'ts',
      },
      bundle: true, format: 'esm', platform: 'node', target: 'node18.19', outfile: out, logLevel: 'warning', plugins: [noCommands],
    });
    const { manPage, bashCompletion } = await import(pathToFileURL(out).href);
    const man = join(outdir, 'tsfirewall.8');
    const completion = join(outdir, 'tsfirewall.bash-completion');
    writeFileSync(man, manPage(readFileSync(join(root, 'packaging/tsfirewall.8.in'), 'utf8')));
    writeFileSync(completion, bashCompletion());
    return { man, completion };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
