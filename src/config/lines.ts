/**
 * A line-level pass over the config text before dotenv parses values: dotenv silently keeps the last of two
 * duplicate keys and skips lines it cannot read, and an admin deserves to hear about both, with line numbers.
 */
import type { ConfigProblem } from '../errors.js';
import { quoted } from './quote.js';

export interface LineScan {
  readonly lineOf: ReadonlyMap<string, number>;
  readonly problems: readonly ConfigProblem[];
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=/;

/** The key a line assigns, read as the line scan reads it, for messages about a line that fails before the scan. */
export function assignedKey(line: string): string | undefined {
  return ASSIGNMENT.exec(line)?.[1];
}

export function scanLines(text: string): LineScan {
  const lineOf = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\r$/, '');
    if (/^\s*(#.*)?$/.test(content)) return;
    const m = ASSIGNMENT.exec(content);
    if (!m) {
      problems.push({ line, message: `expected KEY=VALUE or a # comment, got ${quoted(content)}` });
      return;
    }
    const key = m[1]!;
    const first = lineOf.get(key);
    if (first !== undefined) {
      problems.push({ key, line, message: `set twice (first on line ${first}); keep one` });
      return;
    }
    lineOf.set(key, line);
    // A quote opened and not closed on this line would make dotenv swallow the next lines as the value.
    const value = content.slice(m[0].length).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && !value.slice(1).includes(quote)) {
      problems.push({ key, line, message: 'value opens a quote that is not closed on the same line' });
    }
  });
  return { lineOf, problems };
}
