/**
 * The terminal's help, from the verb and option tables: `--help` and `help` list every verb and option;
 * `help VERB` and `VERB --help` give one verb's synopsis, text and the options it takes.
 */
import { OPTIONS, type OptionName, type OptionSpec } from '../options.js';
import { listedVerbs, VERBS } from '../verbs.js';

const WIDTH = 80;

/** Words to lines of at most WIDTH, each after `indent` (the first after `first` instead, if given). */
export function wrap(text: string, indent: string, first = indent): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** `code` marks literal words for the man page; on a terminal they are printed as they are. */
export const plain = (text: string) => text.replace(/`([^`]*)`/g, '$1');

const options = Object.entries(OPTIONS) as [OptionName, OptionSpec][];

/** "-c, --config PATH", as the help and the man page name an option. */
export const optionName = (name: string, o: OptionSpec) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` ${o.arg}` : ''}`;

/** Options `verb` takes: its own, then those every verb takes. */
export const optionsOf = (verb: string) => [
  ...options.filter(([, o]) => o.verbs?.includes(verb)),
  ...options.filter(([, o]) => o.verbs === undefined),
];

const table = (rows: readonly (readonly [string, string])[], pad: number) =>
  rows.flatMap(([left, right]) => (left.length < pad
    ? wrap(right, ' '.repeat(pad + 2), `${left.padEnd(pad)}  `)
    : [left, ...wrap(right, ' '.repeat(pad + 2))])).join('\n');

export function usage(): string {
  const verbs = listedVerbs();
  return [
    `Usage: tsfirewall [options] COMMAND [ARGS]`,
    '',
    'Commands:',
    table(verbs.map((v) => [`  ${v}${VERBS[v]!.args ? ` ${VERBS[v]!.args}` : ''}`, VERBS[v]!.summary]), 26),
    '',
    'Options:',
    table(options.map(([name, o]) => [`  ${optionName(name, o)}`, plain(o.help)]), 26),
    '',
    '"tsfirewall help COMMAND" (or "tsfirewall COMMAND --help") tells more about one command.',
    '',
  ].join('\n');
}

export function verbHelp(verb: string): string {
  const spec = VERBS[verb]!;
  return [
    `Usage: tsfirewall [options] ${verb}${spec.args ? ` ${spec.args}` : ''}`,
    '',
    ...spec.text.flatMap((p) => [...wrap(plain(p), '  '), '']),
    'Options:',
    table(optionsOf(verb).map(([name, o]) => [`  ${optionName(name, o)}`, plain(o.help)]), 26),
    '',
  ].join('\n');
}
