/**
 * confirm: tells a `start|reload|restart --confirm N` waiting in another shell to keep its ruleset. Takes no lock
 * (the waiter holds it) and touches no rules. Exit 0 when a waiter was there, 1 when nothing was waiting.
 */
import { confirmPending } from '../../safety/confirm.js';
import { log } from '../../log.js';
import type { Command } from '../context.js';
import { say } from '../../output.js';

const confirm: Command = async () => {
  const outcome = confirmPending();
  if (!outcome.confirmed) {
    log.error('no tsfirewall is waiting for confirmation here (it may have timed out and rolled back already)');
    return 1;
  }
  say(`confirmed: tsfirewall (pid ${outcome.pid}) keeps the new ruleset`);
  return 0;
};

export default confirm;
