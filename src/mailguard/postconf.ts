/**
 * Postfix settings through postconf(1) only, never by editing main.cf: postconf knows main.cf's syntax
 * (continuation lines, comments) and keeps the admin's layout. `postconf -n KEY` tells a parameter set in main.cf
 * (possibly to "") from one left at Postfix's default, which is what an exact restore needs.
 */
import { which } from '../exec/which.js';
import { NotInstalledError, TsfwError } from '../errors.js';
import { run } from '../exec/run.js';

/** The two parameters of the seed's recipe ("Postfix email solution"). */
export const GUARD_KEYS = ['luser_relay', 'local_recipient_maps'] as const;
export type GuardKey = (typeof GUARD_KEYS)[number];

/** A main.cf parameter as the admin left it: set explicitly (maybe to ""), or absent so the default applies. */
export type Setting = { readonly set: false } | { readonly set: true; readonly value: string };
export type Settings = Readonly<Record<GuardKey, Setting>>;

/** One postconf change: set a value, or remove the line so Postfix's built-in default applies again. */
export type Edit = { readonly key: GuardKey; readonly value: string } | { readonly key: GuardKey; readonly remove: true };

/** `postconf -n` prints "name = value", or "name =" for an explicitly empty value. */
export function parsePostconfN(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_]+) =(?: (.*))?$/.exec(line);
    if (m) out.set(m[1]!, m[2] ?? '');
  }
  return out;
}

export function settingsFrom(text: string): Settings {
  const found = parsePostconfN(text);
  const one = (key: GuardKey): Setting => (found.has(key) ? { set: true, value: found.get(key)! } : { set: false });
  return { luser_relay: one('luser_relay'), local_recipient_maps: one('local_recipient_maps') };
}

/** `-X` removes the parameter (Postfix >= 2.10); `-#` would leave a commented line and change main.cf's text. */
export function editArgv(edit: Edit): string[] {
  return 'remove' in edit ? ['-X', edit.key] : ['-e', `${edit.key}=${edit.value}`];
}

export const describeSetting = (s: Setting) => (!s.set ? '(unset: Postfix default)' : s.value === '' ? '(empty)' : s.value);

/** Both programs are needed: postconf to read and write, postfix to reload. Exit 5 (LSB) otherwise. */
export function postfixPrograms(): { postconf: string; postfix: string } {
  const postconf = which('postconf');
  const postfix = which('postfix');
  if (!postconf || !postfix) {
    throw new NotInstalledError('Postfix is not installed (no postconf/postfix program); mailguard protects a Postfix mail server');
  }
  return { postconf, postfix };
}

async function postconf(argv: readonly string[]): Promise<string> {
  const { postconf: file } = postfixPrograms();
  const r = await run(file, argv, { timeoutMs: 30_000 });
  if (r.exitCode !== 0 || r.spawnError) {
    throw new TsfwError(`postconf ${argv.join(' ')} failed: ${(r.spawnError ?? r.stderr).trim()}`, 1);
  }
  return r.stdout;
}

export async function readSettings(): Promise<Settings> {
  return settingsFrom(await postconf(['-n', ...GUARD_KEYS]));
}

/** The effective value, default included (e.g. mail_spool_directory). */
export async function readEffective(key: string): Promise<string> {
  return (await postconf(['-h', key])).trim();
}

export async function applyEdits(edits: readonly Edit[]): Promise<void> {
  for (const edit of edits) await postconf(editArgv(edit));
}
