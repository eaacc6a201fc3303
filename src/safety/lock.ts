/**
 * One rule-changing verb at a time per network namespace. Node has no flock(2), and pid-file locks need stale
 * detection that races; so the lock file is opened here and util-linux's flock(1) locks it through an inherited
 * descriptor. The lock belongs to the open file description, which this process keeps: the kernel releases it when
 * we exit for any reason, SIGKILL included, and nothing is ever stale.
 */
import { closeSync, constants, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../discover/backend.js';
import { TsfwError } from '../errors.js';
import { run } from '../exec/run.js';
import { log } from '../log.js';
import { netnsTag, runDir } from '../state/dirs.js';
import { ensureStateDir } from '../state/write.js';

/** Another tsfirewall held the lock for the whole bounded wait: nothing was changed (LSB generic failure). */
export class LockBusyError extends TsfwError {
  constructor(message: string) { super(message, 1); }
}

export interface Lock { release(): void }

const DEFAULT_WAIT_SECONDS = 30;

/** Seconds to wait for the lock: $TSFIREWALL_LOCK_WAIT (0-600), else 30, which outlasts any apply but a confirm window. */
export function lockWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TSFIREWALL_LOCK_WAIT;
  const n = raw !== undefined && /^\d{1,3}$/.test(raw) ? Number(raw) : DEFAULT_WAIT_SECONDS;
  return Math.min(n, 600);
}

export async function acquireLock(waitSeconds = lockWaitSeconds()): Promise<Lock> {
  const dir = ensureStateDir(runDir());
  const path = join(dir, `lock.${netnsTag()}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  const release = () => {
    try { ftruncateSync(fd, 0); } catch { /* best effort: only the waiters' message reads it */ }
    try { closeSync(fd); } catch { /* already released */ }
  };
  const flock = which('flock');
  if (!flock) {
    // A firewall that will not come up at boot for want of a lock helper is worse than an unserialised one.
    log.warn('flock (util-linux) is not installed: running without the tsfirewall lock');
    return { release };
  }
  let r = await run(flock, ['--exclusive', '--nonblock', '3'], { fds: [fd] });
  if (r.exitCode === 1) {
    log.info(`waiting up to ${waitSeconds} s for another tsfirewall (pid ${holder(fd)}) to finish`);
    r = await run(flock, ['--exclusive', '--wait', String(waitSeconds), '3'], { fds: [fd], timeoutMs: (waitSeconds + 5) * 1000 });
  }
  if (r.exitCode !== 0) {
    const pid = holder(fd);
    release();
    if (r.exitCode === 1) {
      throw new LockBusyError(`another tsfirewall is running (pid ${pid}); gave up after waiting ${waitSeconds} s, nothing was changed`);
    }
    throw new TsfwError(`cannot take the tsfirewall lock ${path}: ${r.stderr.trim() || r.spawnError || `exit ${r.exitCode}`}`, 1);
  }
  // Record who holds it, for the message the next waiter prints; on a full disk the lock still holds without it.
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch { /* only informational */ }
  return { release };
}

function holder(fd: number): string {
  const buf = Buffer.alloc(32);
  try {
    const text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8').trim();
    return /^\d+$/.test(text) ? text : 'unknown';
  } catch {
    return 'unknown';
  }
}
