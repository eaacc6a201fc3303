// `npm run build`: the CLI bundle in dist/ (see bundle.mjs), stamped with the package's version, and the man page
// and bash completion made from its command table (docs.mjs).
import { readFileSync, rmSync } from 'node:fs';
import { bundle } from './bundle.mjs';
import { docs } from './docs.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await bundle('dist', { version: pkg.version });
await docs(new URL('../dist/', import.meta.url).pathname);
