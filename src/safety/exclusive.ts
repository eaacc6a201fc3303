/**
 * How every rule-changing verb runs: under the per-namespace lock, and only after whatever an interrupted apply
 * left behind has been put back, so the verb starts from a ruleset someone actually chose.
 */
import { log } from '../log.js';
import { checkpoint } from './interrupt.js';
import { recoverInterrupted } from './journal.js';
import { StateError } from '../state/write.js';
import { acquireLock, type Lock } from './lock.js';
import { mark } from '../trace.js';

export interface ExclusiveOptions {
  /**
   * stop must open the host even when the run directory is unusable (then it runs unlocked) or the old ruleset
   * cannot be restored (then recovery only warns). A lock another tsfirewall holds still makes it wait and fail.
   */
  readonly bestEffort?: boolean;
}

export async function exclusive<T>(fn: () => Promise<T>, opts: ExclusiveOptions = {}): Promise<T> {
  let lock: Lock;
  try {
    lock = await acquireLock();
    mark('locked');
  } catch (err) {
    if (!opts.bestEffort || !(err instanceof StateError)) throw err;
    log.warn(`${err.message}; going on without the tsfirewall lock`);
    return fn();
  }
  try {
    await checkpoint('after-lock');
    try {
      await recoverInterrupted();
      mark('journal checked');
    } catch (err) {
      if (!opts.bestEffort) throw err;
      log.warn(`${(err as Error).message}; carrying on`);
    }
    return await fn();
  } finally {
    lock.release();
  }
}
