/**
 * Termination signals during an apply, and the named fault points tests use to prove what happens at each step.
 * While a transaction is open, SIGTERM/SIGINT/SIGHUP (systemd stopping us, Ctrl-C, the admin's SSH session
 * dropping) are held until the next checkpoint, where they turn into an InterruptedError that rolls the ruleset back
 * before the process exits. SIGKILL cannot be caught; the journal (journal.ts) covers that case.
 */
import { TsfwError } from '../errors.js';
import { mark } from '../trace.js';

export class InterruptedError extends TsfwError {
  constructor(readonly signal: NodeJS.Signals) { super(`interrupted by ${signal}`, 1); }
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
let received: NodeJS.Signals | undefined;
const note = (signal: NodeJS.Signals) => { received ??= signal; };

/** Holds termination signals until released; returns the release function. */
export function trapSignals(): () => void {
  received = undefined;
  for (const s of SIGNALS) process.on(s, note);
  return () => { for (const s of SIGNALS) process.off(s, note); };
}

export const pendingSignal = (): NodeJS.Signals | undefined => received;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A step boundary. Throws if a termination signal arrived. When $TSFIREWALL_FAULT names this point
 * ("after-ipv4", "after-ipv4:term", "after-test:pause"; several joined by commas), it first acts the fault out:
 * kill (default) sends SIGKILL to ourselves, term sends SIGTERM, pause announces the point on stderr and waits up to
 * 30 s for a signal. Without that variable this is one property read.
 */
export async function checkpoint(point: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  mark(point);
  const faults = env.TSFIREWALL_FAULT;
  if (faults) {
    for (const fault of faults.split(',')) {
      const [name, action = 'kill'] = fault.trim().split(':');
      if (name === point) await actOut(point, action);
    }
  }
  if (received) throw new InterruptedError(received);
}

async function actOut(point: string, action: string): Promise<void> {
  process.stderr.write(`tsfirewall: fault point ${point} reached (${action})\n`);
  if (action === 'kill') process.kill(process.pid, 'SIGKILL');
  if (action === 'term') process.kill(process.pid, 'SIGTERM');
  // Signal handlers run from the event loop: give them turns to run, bounded.
  const turns = action === 'pause' ? 300 : 20;
  for (let i = 0; i < turns && !received; i++) await sleep(100);
}
