/**
 * Confirm-or-rollback, as iptables-apply does it: after loading, the applying process waits a bounded time for a
 * sign of life from the admin (`tsfirewall confirm` from another shell, or a key on its own terminal). If the new
 * rules cut the admin off, neither can arrive, and the previous ruleset comes back. The handshake is one rename:
 * the waiter writes `confirm.<netns>`, the confirm verb renames it to `….ok`; the waiter, at its deadline, removes
 * its request, and whichever of the two renames/unlinks wins decides, so a late confirm is never half-honoured.
 */
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { netnsTag, runDir } from '../state/dirs.js';
import { readStateFile, removeStateFile, writeStateFile } from '../state/write.js';
import { TsfwError } from '../errors.js';
import { InterruptedError, pendingSignal } from './interrupt.js';

export const MAX_CONFIRM_SECONDS = 3600;
const POLL_MS = 100;

const requestName = () => `confirm.${netnsTag()}`;
const okName = () => `${requestName()}.ok`;
const paths = () => ({ request: join(runDir(), requestName()), ok: join(runDir(), okName()) });

export interface ConfirmIo {
  /** Where the prompt goes (stderr, or the journal under systemd). */
  readonly say: (line: string) => void;
  readonly stdin?: NodeJS.ReadStream;
}

/**
 * Resolves true once confirmed, false at the deadline; throws on Ctrl-C/Ctrl-D/Escape on the terminal and
 * (InterruptedError) on SIGTERM/SIGINT/SIGHUP, whose trap the caller installs, so the caller rolls back either way.
 */
export async function awaitConfirmation(seconds: number, io: ConfirmIo): Promise<boolean> {
  const { request, ok } = paths();
  remove(okName());
  writeStateFile(runDir(), requestName(), `${process.pid} ${Date.now() + seconds * 1000}\n`);
  const tty = io.stdin?.isTTY ? io.stdin : undefined;
  io.say(`new ruleset loaded; run "tsfirewall confirm"${tty ? ' or press Enter here (Ctrl-C: roll back now)' : ''} within ${seconds} s to keep it, ` +
    'or the previous ruleset comes back');
  // Raw mode turns Ctrl-C into a byte: it, Ctrl-D and Escape mean "no, put the old rules back now".
  let pressed = false;
  let refused = false;
  const onKey = (data: Buffer) => { if (/[\x03\x04\x1b]/.test(data.toString('latin1'))) refused = true; else pressed = true; };
  if (tty) { tty.setRawMode(true); tty.on('data', onKey); tty.resume(); }
  try {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (refused) throw new TsfwError('the new ruleset was refused on the terminal', 1);
      if (pressed || existsSync(ok)) break;
      const signal = pendingSignal();
      if (signal) throw new InterruptedError(signal);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (pressed || existsSync(ok)) return true;
    // Deadline: withdraw the request. If it is already gone, a confirm renamed it in the last instant: honour it.
    try { unlinkSync(request); return false; } catch { return existsSync(ok); }
  } finally {
    if (tty) { tty.off('data', onKey); tty.setRawMode(false); tty.pause(); }
    remove(requestName());
    remove(okName());
  }
}

export type ConfirmOutcome = { readonly confirmed: true; readonly pid: string } | { readonly confirmed: false };

/** The `confirm` verb: takes no lock (the waiter holds it) and touches no rules. */
export function confirmPending(): ConfirmOutcome {
  const { request, ok } = paths();
  const [pid = '', deadline = '0'] = (readStateFile(runDir(), requestName()) ?? '').trim().split(' ');
  // A waiter killed with SIGKILL leaves its request behind; confirming that would claim a keep nobody is waiting for.
  if (!alive(pid) || Number(deadline) < Date.now()) {
    remove(requestName());
    return { confirmed: false };
  }
  try {
    renameSync(request, ok);
  } catch {
    return { confirmed: false };
  }
  return { confirmed: true, pid };
}

function alive(pid: string): boolean {
  if (!/^\d+$/.test(pid)) return false;
  try { process.kill(Number(pid), 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

function remove(name: string): void {
  try { removeStateFile(runDir(), name); } catch { /* gone already, or nothing we can do about it here */ }
}
