/**
 * Finding and reading the config file. The rules: --config or TSFIREWALL_CONFIG name a file that must exist;
 * the default path may be absent (then the embedded default applies). Size and encoding are checked here so
 * that a binary or runaway file gives one clear message instead of a parse storm, and so is who can write it
 * (trust.ts): a file others can change is not obeyed.
 */
import { isUtf8 } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { assignedKey } from './lines.js';
import { configTrustProblems } from './trust.js';

export const DEFAULT_CONFIG_PATH = '/etc/default/tsfirewall';
/** The drop-in directory of the default config: packages and config tools put their files here. */
export const DEFAULT_DROPIN_DIR = '/etc/tsfirewall.d';
const MAX_BYTES = 1024 * 1024;

export interface ConfigText { readonly path?: string; readonly text: string }

export function resolveConfigPath(flag?: string, env = process.env): { path: string; explicit: boolean } {
  const named = flag ?? env.TSFIREWALL_CONFIG;
  return named ? { path: named, explicit: true } : { path: DEFAULT_CONFIG_PATH, explicit: false };
}

export function readConfigText(flag?: string, env = process.env): ConfigText {
  const { path, explicit } = resolveConfigPath(flag, env);
  const text = readTrustedText(path, { optional: !explicit });
  return text === undefined ? { text: '' } : { path, text };
}

/**
 * Where the drop-ins of a config file live: /etc/tsfirewall.d for the default /etc/default/tsfirewall, FILE.d for a
 * file named by --config or TSFIREWALL_CONFIG.
 */
export function dropInDir(flag?: string, env = process.env): string {
  const { path, explicit } = resolveConfigPath(flag, env);
  return explicit ? `${path}.d` : DEFAULT_DROPIN_DIR;
}

/**
 * The text of one file tsfirewall obeys (the main config, a drop-in, a raw snippet, a local blocklist), after the
 * same checks for each: a regular file that only root can change, at most 1 MiB of UTF-8. `optional`: a missing
 * file is undefined instead of an error.
 */
export function readTrustedText(path: string, opts: { readonly optional?: boolean; readonly what?: string; readonly maxBytes?: number } = {}): string | undefined {
  const what = opts.what ?? 'config file';
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  const problem = (message: string) => new ConfigError([{ message }], path);
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw problem('is not a regular file');
    const untrusted = configTrustProblems(path);
    if (untrusted.length > 0) throw new ConfigError(untrusted.map((message) => ({ message })), path);
    size = st.size;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.optional) return undefined;
    throw problem(code === 'ENOENT' ? `${what} not found` : `cannot read ${what} (${code})`);
  }
  if (size > maxBytes) throw problem(`${what} is ${size} bytes; the limit is ${maxBytes}`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw problem(`cannot read ${what} (${(err as NodeJS.ErrnoException).code})`);
  }
  // buffer.isUtf8 is the strict check a fatal TextDecoder makes, without setting one up on every verb's hot path.
  if (!isUtf8(bytes)) throw new ConfigError(badUtf8Lines(bytes), path);
  const text = bytes.toString('utf8');
  // A leading byte-order mark is no part of the first key (TextDecoder drops it too).
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Every line that is not UTF-8, with the key it assigns when that much is readable: keys are ASCII, so the bytes
 * before the "=" are read as Latin-1 (one character a byte) to name it, as every other config message does.
 */
function badUtf8Lines(bytes: Buffer): ConfigProblem[] {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const problems: ConfigProblem[] = [];
  let start = 0;
  let line = 1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      const raw = bytes.subarray(start, i);
      try {
        decoder.decode(raw);
      } catch {
        const key = assignedKey(raw.toString('latin1'));
        problems.push({ line, ...(key === undefined ? {} : { key }), message: 'is not valid UTF-8 text' });
      }
      start = i + 1;
      line++;
    }
  }
  // Never reached (a newline byte cannot be part of a multi-byte character), but a refusal must say something.
  return problems.length > 0 ? problems : [{ message: 'is not valid UTF-8 text' }];
}
