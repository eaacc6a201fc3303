/** Waiting for something a daemon does in its own time (a ban, a reload, a delivery), bounded in count and time. */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Reads every `everyMs` for up to `seconds` until `read` gives `want`; resolves to the last value read, so the
 * test's assertion shows what it saw ("activating") rather than a bare timeout.
 */
export async function waitFor<T>(read: () => Promise<T>, want: T, seconds = 30, everyMs = 500): Promise<T> {
  let got = await read();
  for (let i = 1; i < (seconds * 1000) / everyMs && got !== want; i++) {
    await sleep(everyMs);
    got = await read();
  }
  return got;
}

/** Polls `test` every 250 ms for up to `seconds`; resolves to the milliseconds it took, or throws naming `what`. */
export async function until(what: string, test: () => Promise<boolean>, seconds = 20): Promise<number> {
  const t0 = Date.now();
  if (await waitFor(test, true, seconds, 250)) return Date.now() - t0;
  throw new Error(`timed out after ${seconds}s waiting for ${what}`);
}
