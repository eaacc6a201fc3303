/**
 * What enable and disable must change, as pure functions of what main.cf holds now: only differing keys are
 * touched, so a second enable (or a disable of an already restored host) edits nothing.
 */
import { GUARD_KEYS, type Edit, type GuardKey, type Setting, type Settings } from './postconf.js';

/** The seed's recipe: unknown local recipients go to the account, and smtpd no longer rejects them. */
export function guardedSettings(account: string): Settings {
  return { luser_relay: { set: true, value: account }, local_recipient_maps: { set: true, value: '' } };
}

export const sameSetting = (a: Setting, b: Setting) => a.set === b.set && (!a.set || a.value === (b as { value: string }).value);

function editsTowards(current: Settings, target: Settings): Edit[] {
  const edits: Edit[] = [];
  for (const key of GUARD_KEYS) {
    const want = target[key];
    if (sameSetting(current[key], want)) continue;
    edits.push(want.set ? { key, value: want.value } : { key, remove: true as const });
  }
  return edits;
}

export const isGuarded = (current: Settings, account: string) => editsTowards(current, guardedSettings(account)).length === 0;

export const enableEdits = (current: Settings, account: string) => editsTowards(current, guardedSettings(account));

/** Back to exactly what was saved, including "was not in main.cf at all". */
export const restoreEdits = (current: Settings, previous: Settings) => editsTowards(current, previous);

/** Which keys differ, for "settings had drifted" messages. */
export const changedKeys = (edits: readonly Edit[]): GuardKey[] => edits.map((e) => e.key);
