/**
 * The shipped CLI bundle (scripts/bundle.mjs) built into a private directory for a container test, so a concurrent
 * `npm run build` rewriting dist/ cannot race the copy into the container.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle } from '../../scripts/bundle.mjs';

export async function bundleCliInto(prefix: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), `${prefix}-`));
  await bundle(out, { version: 'test' });
  return out;
}
