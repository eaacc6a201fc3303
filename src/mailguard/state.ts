/**
 * What main.cf held before `mailguard enable`, so `disable` can put it back exactly. Root writes this file, so it
 * is written atomically (temp file + rename, never a half-written state) and symlinks are refused: a planted
 * link must not make root read or clobber another file.
 */
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { accountName, ValueError } from '../config/values.js';
import { TsfwError } from '../errors.js';
import { GUARD_KEYS, type Setting, type Settings } from './postconf.js';

export interface GuardState {
  readonly version: 1;
  readonly account: string;
  /** True when enable made the account (status says so; disable keeps it either way). */
  readonly createdAccount: boolean;
  readonly enabledAt: string;
  readonly previous: Settings;
}

export const stateDir = (env: NodeJS.ProcessEnv = process.env) => env.TSFIREWALL_STATE_DIR || '/var/lib/tsfirewall';
export const statePath = (dir: string) => join(dir, 'mailguard.json');

const corrupt = (path: string, why: string) =>
  new TsfwError(`${path}: ${why}; fix or remove it (it holds the Postfix values that "mailguard disable" restores)`, 1);

function parseSetting(raw: unknown): Setting | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.set === false) return { set: false };
  if (r.set === true && typeof r.value === 'string' && !/[\n\r\0]/.test(r.value)) return { set: true, value: r.value };
  return undefined;
}

/** Validates every field: the values go back into main.cf through postconf. */
export function parseState(text: string, path = 'mailguard.json'): GuardState {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw corrupt(path, 'is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || raw.version !== 1) throw corrupt(path, 'has an unknown format version');
  let account: string;
  try {
    account = accountName(String(raw.account));
  } catch (err) {
    throw corrupt(path, `account: ${err instanceof ValueError ? err.message : String(err)}`);
  }
  const prev = (raw.previous ?? {}) as Record<string, unknown>;
  const previous = Object.fromEntries(GUARD_KEYS.map((k) => [k, parseSetting(prev[k])])) as Record<string, Setting | undefined>;
  const missing = GUARD_KEYS.filter((k) => previous[k] === undefined);
  if (missing.length > 0) throw corrupt(path, `previous value of ${missing.join(', ')} is missing or malformed`);
  return {
    version: 1,
    account,
    createdAccount: raw.createdAccount === true,
    enabledAt: typeof raw.enabledAt === 'string' ? raw.enabledAt : '',
    previous: previous as unknown as Settings,
  };
}

export const serializeState = (state: GuardState) => JSON.stringify(state, null, 2) + '\n';

/** The directory must be a real directory only root (its owner) can write: else the rename below is not safe. */
function checkDir(dir: string, create: boolean): boolean {
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) throw new TsfwError(`${dir} is not a directory (symlinks are refused)`, 1);
    if ((st.mode & 0o022) !== 0) throw new TsfwError(`${dir} is writable by group or others; refusing to keep state there`, 1);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (!create) return false;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return true;
  }
}

export function readState(dir = stateDir()): GuardState | undefined {
  if (!checkDir(dir, false)) return undefined;
  const path = statePath(dir);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new TsfwError(`${path} is a symlink; refusing to read it`, 1);
    throw err;
  }
  try {
    return parseState(readFileSync(fd, 'utf8'), path);
  } finally {
    closeSync(fd);
  }
}

export function writeState(state: GuardState, dir = stateDir()): void {
  checkDir(dir, true);
  const path = statePath(dir);
  if (lstatSafe(path)?.isSymbolicLink()) throw new TsfwError(`${path} is a symlink; refusing to replace it`, 1);
  const tmp = join(dir, `.mailguard.json.${process.pid}.tmp`);
  // O_EXCL|O_NOFOLLOW: a leftover or planted file at the temp name fails the write instead of being followed.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, serializeState(state));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function removeState(dir = stateDir()): void {
  const path = statePath(dir);
  if (lstatSafe(path)?.isSymbolicLink()) throw new TsfwError(`${path} is a symlink; refusing to remove it`, 1);
  try { unlinkSync(path); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; }
}

function lstatSafe(path: string) {
  try { return lstatSync(path); } catch { return undefined; }
}
