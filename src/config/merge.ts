/**
 * The config's files as one set of values: the main file first, then each drop-in in lexical order, a later file's
 * value winning over an earlier one's (as systemd's drop-ins do). Within one file a key set twice is still an error
 * (lines.ts): there it is a slip, across files it is how a drop-in overrides. Every value keeps its file and line,
 * for messages and for `show --sources`.
 */
import dotenv from 'dotenv';
import type { ConfigProblem } from '../errors.js';
import { scanLines } from './lines.js';

export interface Origin { readonly file?: string; readonly line?: number }

export interface Merged {
  readonly values: Readonly<Record<string, string>>;
  /** Where each key's value comes from: the last file that set it. */
  readonly origin: ReadonlyMap<string, Origin>;
  /** Every place that set each key, in reading order; the last is the one in force. */
  readonly history: ReadonlyMap<string, readonly Origin[]>;
  readonly problems: readonly ConfigProblem[];
}

export function mergeSources(sources: readonly { readonly path?: string; readonly text: string }[]): Merged {
  const values: Record<string, string> = {};
  const history = new Map<string, Origin[]>();
  const problems: ConfigProblem[] = [];
  for (const { path, text } of sources) {
    const scan = scanLines(text);
    problems.push(...scan.problems.map((p) => (path === undefined ? p : { ...p, file: path })));
    for (const [key, value] of Object.entries(dotenv.parse(text))) {
      values[key] = value;
      const line = scan.lineOf.get(key);
      history.set(key, [...(history.get(key) ?? []), { ...(path === undefined ? {} : { file: path }), ...(line === undefined ? {} : { line }) }]);
    }
  }
  const origin = new Map([...history].map(([key, places]) => [key, places[places.length - 1]!] as const));
  return { values, origin, history, problems };
}
