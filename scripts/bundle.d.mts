import type { BuildResult } from 'esbuild';

/** Bundles the CLI into outdir (see bundle.mjs): core.cjs, its entry tsfirewall.cjs, and winston/systeminformation apart. */
export function bundle(outdir: string, opts?: { version?: string; metafile?: boolean; write?: boolean; minify?: boolean; core?: string }): Promise<BuildResult>;

/** The stamp of a core.cjs in its entry (the code cache's key). */
export function coreHash(bytes: Uint8Array): string;
