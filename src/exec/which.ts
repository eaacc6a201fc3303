/**
 * Finding a program without running one: on PATH, then the sbin directories root's PATH may lack under sudo or
 * systemd. Tests put fake programs first on PATH, so every lookup goes through here.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter } from 'node:path';

/**
 * The first executable `name` on PATH or in the sbin dirs, or undefined. Most directories do not hold the program,
 * and a stat that finds nothing returns undefined where access(2) would throw: a verb's dozen lookups stay cheap.
 */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  const key = `${name}\0${path}`;
  const known = found.get(key);
  if (known !== undefined) return known;
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin', '/usr/bin']) {
    if (!dir) continue;
    // As text, not path.join: a lookup of a program that is nowhere visits every directory, and a verb's dozen of
    // them made join's normaliser hot enough for TurboFan.
    const candidate = dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
    try {
      if (statSync(candidate, { throwIfNoEntry: false }) === undefined) continue;
      accessSync(candidate, constants.X_OK);
      found.set(key, candidate);
      return candidate;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Programs found, by name and PATH: a verb asks for the same few a dozen times (once per program it runs), and with
 * a long PATH the stats and joins of every lookup made Node's helpers hot enough for TurboFan, whose code and memory
 * the verb then paid for. Only a program found is remembered: one installed meanwhile is still found.
 */
const found = new Map<string, string>();
