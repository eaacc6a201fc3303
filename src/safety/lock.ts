/**
 * One rule-changing verb at a time per network namespace. The lock is a listening Unix socket in Linux's abstract
 * namespace: it belongs to the network namespace (exactly the scope of a ruleset), only one process can bind the
 * name, and the kernel frees it when the holder exits for any reason, SIGKILL included, so it is never stale.
 * Taking it costs a bind(2), not a program start, which matters on the start/reload hot path. The holder answers
 * a connection with its pid, for the waiters' message.
 */
import { createConnection, createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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
  let server = await tryBind();
  if (!server) {
    log.info(`waiting up to ${waitSeconds} s for another tsfirewall (pid ${await holderPid()}) to finish`);
    const deadline = Date.now() + waitSeconds * 1000;
    while (!server && Date.now() < deadline) {
      await sleep(POLL_MS);
      server = await tryBind();
    }
    if (!server) {
      throw new LockBusyError(`another tsfirewall is running (pid ${await holderPid()}); gave up after waiting ${waitSeconds} s, nothing was changed`);
    }
  }
  const held = server;
  return { release: () => { held.close(); } };
}

/** The bound server, or undefined when another process holds the name. */
function tryBind(): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      // A waiter that gives up early must not take the holder down with an EPIPE.
      socket.on('error', () => undefined);
      socket.end(`${process.pid}\n`);
    });
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(new TsfwError(`cannot take the tsfirewall lock: ${err.message}`, 1));
    });
    server.listen({ path: lockName() }, () => {
      // The lock must not keep the process alive once the verb is done.
      server.unref();
      resolve(server);
    });
  });
}

function holderPid(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = createConnection({ path: lockName() });
    const done = () => { socket.destroy(); resolve(/^\d+$/.test(text.trim()) ? text.trim() : 'unknown'); };
    socket.setTimeout(500, done);
    socket.on('data', (chunk) => { text += String(chunk); });
    socket.on('end', done);
    socket.on('error', done);
  });
}
