// Cross-process mutual exclusion for the harness (image builds, dockerd start).
//
// flock(1) is run on a file descriptor we pass in: flock(2) locks belong to the
// open file description, which our process keeps after flock(1) exits. So the
// lock is held until we close the fd, and the kernel drops it if we crash —
// no stale-lock detection needed. Two opens in one process (vitest threads)
// are distinct descriptions and exclude each other too.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** Runs flock(1) on `fd` (as its fd 3); resolves to its exit code. node's spawn, not execa: it passes a raw fd. */
function flockFd(fd: number, waitSec: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--exclusive', '--wait', String(waitSec), '3'], {
      stdio: ['ignore', 'ignore', 'inherit', fd],
      timeout: (waitSec + 5) * 1000,
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

export async function withFileLock<T>(
  lockPath: string,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const fd = openSync(lockPath, 'a', 0o600);
  try {
    const waitSec = Math.max(1, Math.ceil(timeoutMs / 1000));
    const code = await flockFd(fd, waitSec);
    if (code !== 0) throw new Error(`could not lock ${lockPath} within ${waitSec}s (flock exit ${code})`);
    return await fn();
  } finally {
    closeSync(fd);
  }
}
