/**
 * How big the black hole has grown: the cost of the guard. Postfix's local(8) writes an mbox file in
 * mail_spool_directory (or a Maildir when that ends in "/"); /var/mail and /var/spool/mail are the usual names.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Mailbox {
  readonly path: string;
  readonly format: 'mbox' | 'maildir';
  readonly bytes: number;
  /** Counted for Maildir only (one file a message); an mbox would have to be read through. */
  readonly messages?: number;
}

const MAX_MAILDIR_ENTRIES = 1_000_000;

export function mailboxCandidates(account: string, spoolDir: string): string[] {
  const dirs = [spoolDir.replace(/\/+$/, '') || '/var/mail', '/var/mail', '/var/spool/mail'];
  return [...new Set(dirs.map((d) => join(d, account)))];
}

function maildir(path: string): Mailbox {
  let bytes = 0;
  let messages = 0;
  for (const sub of ['new', 'cur', 'tmp']) {
    let names: string[];
    try { names = readdirSync(join(path, sub)); } catch { continue; }
    for (const name of names.slice(0, MAX_MAILDIR_ENTRIES)) {
      const st = lstatSync(join(path, sub, name), { throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      bytes += st.size;
      if (sub !== 'tmp') messages += 1;
    }
  }
  return { path, format: 'maildir', bytes, messages };
}

/** The first candidate that exists; symlinks are not followed (status must not wander off the spool). */
export function measureMailbox(candidates: readonly string[]): Mailbox | undefined {
  for (const path of candidates) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st?.isFile()) return { path, format: 'mbox', bytes: st.size };
    if (st?.isDirectory()) return maildir(path);
  }
  return undefined;
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}
