/**
 * The man page's COMMANDS and OPTIONS sections, from the verb and option tables, put into the hand-written rest
 * of the page (packaging/tsfirewall.8.in) at build time (scripts/docs.mjs), so the page lists exactly what `--help`
 * lists. Plain man(7) macros, as the rest of the page.
 */
import { OPTIONS, type OptionSpec } from '../options.js';
import { listedVerbs, VERBS } from '../verbs.js';
import { optionsOf } from './text.js';

/** Text -> roff: backslashes and hyphens escaped, `code` bold, a line never starting with a control character. */
export function roff(text: string): string {
  const escaped = text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/`([^`]*)`/g, '\\fB$1\\fR');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** A synopsis: metavariables (IP, NAME, COMMAND...) in italics, the rest as it is. */
const synopsis = (args: string) => roff(args).replace(/\b([A-Z][A-Z]+)\b/g, '\\fI$1\\fR');

const optionTag = (name: string, o: OptionSpec) =>
  `${o.short ? `\\fB\\-${o.short}\\fR, ` : ''}\\fB\\-\\-${roff(name)}\\fR${o.arg ? ` \\fI${o.arg}\\fR` : ''}`;

export function manCommands(): string {
  return listedVerbs().flatMap((verb) => {
    const spec = VERBS[verb]!;
    const own = optionsOf(verb).filter(([, o]) => o.verbs !== undefined).map(([name]) => `\\fB\\-\\-${roff(name)}\\fR`);
    return [
      '.TP',
      `\\fB${roff(verb)}\\fR${spec.args ? ` ${synopsis(spec.args)}` : ''}`,
      ...spec.text.flatMap((p, i) => (i === 0 ? [roff(p)] : ['.IP', roff(p)])),
      ...(own.length > 0 ? ['.IP', `Options: ${own.join(', ')}.`] : []),
    ];
  }).join('\n');
}

export function manOptions(): string {
  return (Object.entries(OPTIONS) as [string, OptionSpec][])
    .flatMap(([name, o]) => ['.TP', optionTag(name, o), `${roff(o.help)}.`])
    .join('\n');
}

/** The template with its @COMMANDS@ and @OPTIONS@ lines replaced. */
export function manPage(template: string): string {
  for (const marker of ['@COMMANDS@', '@OPTIONS@']) {
    if (!template.split('\n').includes(marker)) throw new Error(`the man page template has no ${marker} line`);
  }
  return template.split('\n').map((line) => (line === '@COMMANDS@' ? manCommands() : line === '@OPTIONS@' ? manOptions() : line)).join('\n');
}
