/**
 * What main.cf held before `mailguard enable`, so `disable` can put it back exactly. The file goes through the
 * shared state-file helper (atomic replace, symlinks refused) and is validated on the way back in, because its
 * values are handed to postconf as root.
 */
import { join } from 'node:path';
import { accountName, ValueError } from '../config/values.js';
import { TsfwError } from '../errors.js';
import { stateDir } from '../state/dirs.js';
import { readStateFile, removeStateFile, writeStateFile } from '../state/write.js';
import { GUARD_KEYS, type Setting, type Settings } from './postconf.js';

export interface GuardState {
  readonly version: 1;
  readonly account: string;
  /** True when enable made the account (status says so; disable keeps it either way). */
  readonly createdAccount: boolean;
  readonly enabledAt: string;
  readonly previous: Settings;
}

export { stateDir };
const STATE_FILE = 'mailguard.json';
export const statePath = (dir: string) => join(dir, STATE_FILE);

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

export function readState(dir = stateDir()): GuardState | undefined {
  const text = readStateFile(dir, STATE_FILE);
  return text === undefined ? undefined : parseState(text, statePath(dir));
}

export const writeState = (state: GuardState, dir = stateDir()) => writeStateFile(dir, STATE_FILE, serializeState(state));

export const removeState = (dir = stateDir()) => removeStateFile(dir, STATE_FILE);
