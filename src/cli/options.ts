/**
 * The command line's options, in one table: main.ts parses with it, and the boot loader (boot.ts) uses it to find
 * the verb before any of the CLI is loaded, so both always agree on which options take a value.
 */
import { parseArgs } from 'node:util';

export const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean', short: 'j' },
  jail: { type: 'string' },
  all: { type: 'boolean' },
  confirm: { type: 'string' },
  force: { type: 'boolean' },
  early: { type: 'boolean' },
  'if-changed': { type: 'boolean' },
  sources: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** The verb a command line names, without judging it (unknown options and verbs are main.ts's business). */
export function verbOf(argv: readonly string[]): string | undefined {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false }).positionals[0];
  } catch {
    return undefined;
  }
}
