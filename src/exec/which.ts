/**
 * Finding a program without running one: on PATH, then the sbin directories root's PATH may lack under sudo or
 * systemd. Tests put fake programs first on PATH, so every lookup goes through here.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The first executable `name` on PATH or in the sbin dirs, or undefined. Most directories do not hold the program,
 * and a stat that finds nothing returns undefined where access(2) would throw: a verb's dozen lookups stay cheap.
 */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin', '/usr/bin']) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (statSync(candidate, { throwIfNoEntry: false }) === undefined) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* next */ }
  }
  return undefined;
}
