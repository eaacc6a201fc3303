/**
 * The one way tsfirewall keeps files that outlive a command (ban lists, the apply journal, mailguard's saved
 * values, remembered admin addresses). Root writes them, so a planted symlink must never make root follow it, and a
 * crash or a full disk must never leave half a file: the new text goes to a fresh temp file in the same directory
 * (O_EXCL|O_NOFOLLOW), is fsynced, then renamed over the old one, and the directory is fsynced so the rename sticks.
 */
import {
  chmodSync, closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync,
  statSync, unlinkSync, writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { TsfwError } from '../errors.js';

/** State that cannot be kept safely (symlinked or foreign directory, full disk): the command changes nothing. */
export class StateError extends TsfwError {
  constructor(message: string, options?: { cause?: unknown }) { super(message, 1, options); }
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/;
const euid = () => process.geteuid?.() ?? 0;

/**
 * Makes sure `dir` is a real directory (not a symlink) owned by us, mode 0700, inside a parent others cannot write
 * (or a sticky one like /tmp): then nobody else can swap it or the files in it between our checks and our renames.
 */
export function ensureStateDir(dir: string): string {
  // The parent may itself be a root-owned link (/var/run -> /run); what matters is who can write where it leads.
  const parent = statSync(dirname(dir), { throwIfNoEntry: false });
  if (!parent?.isDirectory()) throw new StateError(`${dirname(dir)} is not a directory; cannot keep state in ${dir}`);
  if ((parent.mode & 0o022) !== 0 && (parent.mode & 0o1000) === 0) {
    throw new StateError(`${dirname(dir)} is writable by group or others without the sticky bit; refusing to keep state in ${dir}`);
  }
  let st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateFailure(err, `cannot create ${dir}`);
    }
    st = lstatSync(dir);
  }
  if (st.isSymbolicLink()) throw new StateError(`${dir} is a symlink; refusing to keep state there (make it a real directory owned by root, mode 0700)`);
  if (!st.isDirectory()) throw new StateError(`${dir} is not a directory`);
  if (st.uid !== euid()) throw new StateError(`${dir} is owned by uid ${st.uid}, not ${euid()}; refusing to keep state there`);
  // Ours and not a link: tightening is safe, and an older 0755 directory must not keep ban lists world-readable.
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/**
 * Replaces `dir/name` atomically with `data` (mode 0600). On any failure the previous file is left as it was. Text
 * in pieces (an iterable) is written piece by piece, so a large file is never all in memory at once.
 */
export function writeStateFile(dir: string, name: string, data: string | Uint8Array | Iterable<string>): void {
  checkName(name);
  ensureStateDir(dir);
  const target = join(dir, name);
  const existing = lstatSync(target, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) throw new StateError(`${target} is not a regular file (symlinks are refused); not replacing it`);
  // O_EXCL below is what makes the name safe; the random part only avoids a retry. Math.random, not node:crypto,
  // whose load costs ~10 ms of CPU on every rule-changing verb.
  const tmp = join(dir, `.${name}.${process.pid}.${Math.random().toString(16).slice(2, 10)}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw stateFailure(err, `cannot write ${target}`);
  }
  try {
    const pieces = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
    for (const piece of pieces) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
  } catch (err) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* renamed or gone */ }
    throw stateFailure(err, `cannot write ${target}`);
  }
  syncDir(dir);
}

/** The file's text, or undefined when it does not exist; symlinks and non-regular files are refused. */
export function readStateFile(dir: string, name: string): string | undefined {
  checkName(name);
  const path = join(dir, name);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new StateError(`${path} is a symlink; refusing to read it`);
    throw stateFailure(err, `cannot read ${path}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new StateError(`${path} is not a regular file; refusing to read it`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Removes `dir/name` if present (a symlink there is removed, never followed). */
export function removeStateFile(dir: string, name: string): void {
  checkName(name);
  try {
    unlinkSync(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw stateFailure(err, `cannot remove ${join(dir, name)}`);
  }
  syncDir(dir);
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new StateError(`bad state file name "${name}"`);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch { /* some filesystems refuse fsync on directories; the rename is still atomic */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function stateFailure(err: unknown, what: string): StateError {
  const code = (err as NodeJS.ErrnoException).code;
  if (err instanceof StateError) return err;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StateError(`${what}: no space left on the device; the previous version is untouched`, { cause: err });
  if (code === 'EROFS') return new StateError(`${what}: the file system is read-only`, { cause: err });
  return new StateError(`${what}: ${code ?? (err as Error).message}`, { cause: err });
}
