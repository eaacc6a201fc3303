/**
 * KEY=VALUE values, read exactly as dotenv.parse reads them. Our own function rather than dotenv itself: loading
 * dotenv also loads node:crypto (~10 ms of CPU) on every verb, for features the config never uses. It reuses the
 * grammar of dotenv 17's parse() (its regular expression; dotenv is BSD-2-Clause, (c) 2015 Scott Motte), so every
 * config, odd ones included, reads as before; a differential test holds it to dotenv.parse.
 *
 * The rules: an optional `export`; `=` (or `: `); the value is a quoted string ('...', "..." or `...`, where a
 * backslash before the quote character keeps it inside, and which may run over several lines) followed by blanks or
 * a # comment, or else everything up to the first #. It is trimmed, one pair of matching outer quotes is removed,
 * and in a double-quoted value \n and \r become a newline and a carriage return. A key set twice keeps its last value.
 */
const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?$/gm;

export function parseAssignments(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const normalized = text.replace(/\r\n?/g, '\n');
  for (const m of normalized.matchAll(ASSIGNMENT)) {
    let value = (m[2] ?? '').trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, '$2');
    if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
    values[m[1]!] = value;
  }
  return values;
}
