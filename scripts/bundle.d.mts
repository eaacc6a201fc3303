import type { BuildResult } from 'esbuild';

/** Bundles the CLI into outdir (see bundle.mjs). */
export function bundle(outdir: string, opts?: { version?: string; metafile?: boolean; write?: boolean; minify?: boolean }): Promise<BuildResult>;
