/** Waiting for something a daemon does in its own time (a ban, a reload, a delivery), bounded in count and time. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `test` every 250 ms for up to `seconds`; resolves to the milliseconds it took, or throws naming `what`. */
export async function until(what: string, test: () => Promise<boolean>, seconds = 20): Promise<number> {
  const t0 = Date.now();
  for (let i = 0; i < seconds * 4; i++) {
    if (await test()) return Date.now() - t0;
    await sleep(250);
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}`);
}
