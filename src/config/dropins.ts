/**
 * The drop-in directory (/etc/tsfirewall.d, or FILE.d beside a --config FILE): packages and config tools (Ansible,
 * Salt) drop files there instead of editing the main config. `*.conf` files are more config, read in lexical order
 * after the main file (a later file wins); `NAME.POINT.nft`, `NAME.POINT.rules` and `NAME.POINT.rules6` are raw
 * rules placed at a named point of the ruleset (snippets.ts). Every file is read with the main config's own checks
 * (file.ts, trust.ts): whoever can write one of them decides what the firewall lets in.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { readTrustedText } from './file.js';

/** Where a snippet's rules go: around the service rules of the filter chains, or into the nat or raw table. */
export const SNIPPET_POINTS = ['before', 'after', 'nat', 'raw'] as const;
export type SnippetPoint = (typeof SNIPPET_POINTS)[number];

/** Which tool's language a snippet is written in, from its extension: nft for nftables, .rules/.rules6 for iptables. */
export const SNIPPET_EXTENSIONS = { nft: { syntax: 'nft', family: undefined }, rules: { syntax: 'iptables', family: 'ipv4' }, rules6: { syntax: 'iptables', family: 'ipv6' } } as const;
export type SnippetExtension = keyof typeof SNIPPET_EXTENSIONS;

export interface SourceText { readonly path: string; readonly text: string }
export interface SnippetText extends SourceText { readonly name: string; readonly point: SnippetPoint; readonly extension: SnippetExtension }

export interface DropIns {
  readonly dir: string;
  /** The *.conf files, in the order they are read. */
  readonly conf: readonly SourceText[];
  readonly snippets: readonly SnippetText[];
}

/** More files than any host needs: a runaway tool filling the directory gets one clear message. */
export const MAX_DROPINS = 256;

/** A snippet's name is part of every rule's marker in the kernel (nft keeps at most 128 bytes of comment). */
const SNIPPET_NAME = new RegExp(`^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\\.(${SNIPPET_POINTS.join('|')})\\.(${Object.keys(SNIPPET_EXTENSIONS).join('|')})$`);
const SNIPPET_LIKE = new RegExp(`\\.(${Object.keys(SNIPPET_EXTENSIONS).join('|')})$`);

/** Reads every drop-in of `dir`; none when the directory does not exist. Throws ConfigError naming each bad file. */
export function readDropIns(dir: string): DropIns {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new ConfigError([{ message: 'is not a directory' }], dir);
    names = readdirSync(dir);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { dir, conf: [], snippets: [] };
    throw new ConfigError([{ message: `cannot read the drop-in directory (${code})` }], dir);
  }
  // Lexical order by code unit, as the C locale sorts: 10-a.conf before 50-b.conf before 9-c.conf.
  const ours = names.filter((n) => !n.startsWith('.') && (n.endsWith('.conf') || SNIPPET_LIKE.test(n))).sort();
  if (ours.length > MAX_DROPINS) throw new ConfigError([{ message: `holds ${ours.length} drop-in files; the limit is ${MAX_DROPINS}` }], dir);
  const problems: ConfigProblem[] = [];
  const conf: SourceText[] = [];
  const snippets: SnippetText[] = [];
  for (const name of ours) {
    const path = join(dir, name);
    const m = SNIPPET_NAME.exec(name);
    if (!name.endsWith('.conf') && !m) {
      problems.push({ file: path, message: `a raw snippet is named NAME.POINT.EXT, POINT one of ${SNIPPET_POINTS.join(', ')} (e.g. 50-web.before.nft)` });
      continue;
    }
    try {
      const text = readTrustedText(path, { what: m ? 'snippet' : 'config file' })!;
      if (m) snippets.push({ path, text, name, point: m[2] as SnippetPoint, extension: m[3] as SnippetExtension });
      else conf.push({ path, text });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems.map((p) => ({ ...p, file: p.file ?? err.file ?? path })));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { dir, conf, snippets };
}
