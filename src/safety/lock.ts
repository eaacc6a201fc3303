/**
 * One rule-changing verb at a time per network namespace. The lock is a listening Unix socket in Linux's abstract
 * namespace: it belongs to the network namespace (exactly the scope of a ruleset), only one process can bind the
 * name, and the kernel frees it when the holder exits for any reason, SIGKILL included, so it is never stale.
 * Taking it costs a bind(2), not a program start, which matters on the start/reload hot path: the socket is made
 * through libc where koffi loads (node:net's listen() loads the cluster, child_process and dgram modules with it),
 * by node:net elsewhere, and the two kinds of holder exclude each other. A waiter names the holder's pid from /proc.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { libc, type Libc } from '../exec/koffi.js';
import { TsfwError, UsageError } from '../errors.js';
import { log } from '../log.js';

/** Another tsfirewall held the lock for the whole bounded wait: nothing was changed (LSB generic failure). */
export class LockBusyError extends TsfwError {
  constructor(message: string) { super(message, 1); }
}

export interface Lock { release(): void }

const DEFAULT_WAIT_SECONDS = 30;
const MAX_WAIT_SECONDS = 600;
const POLL_MS = 50;

/** The abstract socket's name ($TSFIREWALL_LOCK_NAME lets tests keep their own). */
const lockName = (env: NodeJS.ProcessEnv = process.env) => `\0${env.TSFIREWALL_LOCK_NAME ?? 'tsfirewall.lock'}`;

/**
 * Seconds to wait for the lock: $TSFIREWALL_LOCK_WAIT (0-600), else 30, which outlasts any apply but a confirm window.
 * Anything else is a usage error, not a quiet 30: whoever set it meant something else. Empty counts as unset (how a
 * caller blanks an inherited value).
 */
export function lockWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TSFIREWALL_LOCK_WAIT;
  if (raw === undefined || raw === '') return DEFAULT_WAIT_SECONDS;
  if (/^(?:0|[1-9]\d{0,2})$/.test(raw) && Number(raw) <= MAX_WAIT_SECONDS) return Number(raw);
  throw new UsageError(`TSFIREWALL_LOCK_WAIT must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS} (unset: ${DEFAULT_WAIT_SECONDS}), got ${JSON.stringify(raw)}`);
}

export async function acquireLock(waitSeconds = lockWaitSeconds()): Promise<Lock> {
  let held = await tryBind();
  if (!held) {
    log.info(`waiting up to ${waitSeconds} s for another tsfirewall (pid ${holderPid()}) to finish`);
    const deadline = Date.now() + waitSeconds * 1000;
    while (!held && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      held = await tryBind();
    }
    if (!held) {
      throw new LockBusyError(`another tsfirewall is running (pid ${holderPid()}); gave up after waiting ${waitSeconds} s, nothing was changed`);
    }
  }
  return held;
}

/** The lock, or undefined when another process holds the name. */
async function tryBind(): Promise<Lock | undefined> {
  const c = await libc();
  return c ? bindNative(c) : bindWithNet();
}

const AF_UNIX = 1;
/** SOCK_CLOEXEC (Linux's generic value, as on x86 and arm): no program we start inherits the lock. */
const SOCK_STREAM_CLOEXEC = 1 | 0o2000000;
const EADDRINUSE = 98;
const SOCKADDR_UN_BYTES = 2 + 108;

function bindNative(c: Libc): Lock | undefined {
  const fd = c.socket(AF_UNIX, SOCK_STREAM_CLOEXEC, 0);
  if (fd < 0) throw new TsfwError(`cannot take the tsfirewall lock: socket() failed (errno ${c.errno()})`, 1);
  // sockaddr_un: the family in the machine's byte order, then the name with its leading NUL, padded with NULs to
  // the full 108 bytes and bound at that length, as node:net binds it: an abstract name's length is part of it.
  const addr = Buffer.alloc(SOCKADDR_UN_BYTES);
  addr.set(new Uint8Array(new Uint16Array([AF_UNIX]).buffer), 0);
  addr.write(lockName(), 2, 'utf8');
  if (c.bind(fd, addr, addr.length) === 0 && c.listen(fd, 1) === 0) {
    let open = true;
    return { release: () => { if (open) c.close(fd); open = false; } };
  }
  const errno = c.errno();
  c.close(fd);
  if (errno === EADDRINUSE) return undefined;
  throw new TsfwError(`cannot take the tsfirewall lock: bind() failed (errno ${errno})`, 1);
}

// node:net, and the stream modules it brings, load only on this fallback: they add to every start's peak RSS.
async function bindWithNet(): Promise<Lock | undefined> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(new TsfwError(`cannot take the tsfirewall lock: ${err.message}`, 1));
    });
    server.listen({ path: lockName() }, () => {
      // The lock must not keep the process alive once the verb is done.
      server.unref();
      resolve({ release: () => { server.close(); } });
    });
  });
}

/** __SO_ACCEPTCON in /proc/net/unix's flags: the listening socket, not one accepted from it (same name). */
const LISTENING = 0x10000;

/**
 * The pid holding the lock: the listening socket's inode from /proc/net/unix (this namespace's sockets only), then
 * the process with a descriptor on it. "unknown" when the holder is out of sight (another pid namespace).
 */
export function holderPid(name = lockName()): string {
  try {
    // The kernel shows an abstract name's NULs, the leading one and the padding, as '@'.
    const path = `@${name.slice(1)}`;
    const row = readFileSync('/proc/net/unix', 'utf8').split('\n').map((l) => l.trim().split(/\s+/))
      .find((f) => f[7]?.replace(/@+$/, '') === path && (parseInt(f[3] ?? '0', 16) & LISTENING) !== 0);
    if (!row) return 'unknown';
    const target = `socket:[${row[6]}]`;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
      if (holdsSocket(pid, target)) return pid;
    }
  } catch {
    // /proc unreadable: the message only loses its pid.
  }
  return 'unknown';
}

function holdsSocket(pid: string, target: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try { return readlinkSync(`/proc/${pid}/fd/${fd}`) === target; } catch { return false; }
    });
  } catch {
    return false;
  }
}
