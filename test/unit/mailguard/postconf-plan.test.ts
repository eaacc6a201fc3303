import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { enableEdits, guardedSettings, isGuarded, restoreEdits } from '../../../src/mailguard/plan.js';
import { editArgv, parsePostconfN, settingsFrom, type Edit, type Setting, type Settings } from '../../../src/mailguard/postconf.js';

const UNSET: Setting = { set: false };
const DEBIAN_DEFAULT: Settings = { luser_relay: UNSET, local_recipient_maps: UNSET };

/** What postconf -e / -X do to main.cf, as far as these two keys go. */
function applyModel(s: Settings, edits: readonly Edit[]): Settings {
  const out: Record<string, Setting> = { ...s };
  for (const e of edits) out[e.key] = 'remove' in e ? UNSET : { set: true, value: e.value };
  return out as unknown as Settings;
}

describe('postconf -n output', () => {
  test('tells set, explicitly empty and absent apart', () => {
    const text = 'local_recipient_maps =\nluser_relay = $user@other.example\n';
    expect(parsePostconfN(text)).toEqual(new Map([['local_recipient_maps', ''], ['luser_relay', '$user@other.example']]));
    expect(settingsFrom(text)).toEqual({ local_recipient_maps: { set: true, value: '' }, luser_relay: { set: true, value: '$user@other.example' } });
    expect(settingsFrom('')).toEqual(DEBIAN_DEFAULT);
  });

  test('keeps inner blanks of a value (maps lists) and ignores warnings', () => {
    const s = settingsFrom('postconf: warning: something\nlocal_recipient_maps = proxy:unix:passwd.byname, $alias_maps\n');
    expect(s.local_recipient_maps).toEqual({ set: true, value: 'proxy:unix:passwd.byname, $alias_maps' });
    expect(s.luser_relay).toEqual(UNSET);
  });

  test('edits become argv for postconf -e / -X, one argument per value', () => {
    expect(editArgv({ key: 'luser_relay', value: 'notausers' })).toEqual(['-e', 'luser_relay=notausers']);
    expect(editArgv({ key: 'local_recipient_maps', value: '' })).toEqual(['-e', 'local_recipient_maps=']);
    expect(editArgv({ key: 'local_recipient_maps', value: 'a, b c' })).toEqual(['-e', 'local_recipient_maps=a, b c']);
    expect(editArgv({ key: 'luser_relay', remove: true })).toEqual(['-X', 'luser_relay']);
  });
});

describe('enable and restore plans', () => {
  test('enable on a stock Debian main.cf sets both keys', () => {
    expect(enableEdits(DEBIAN_DEFAULT, 'notausers')).toEqual([
      { key: 'luser_relay', value: 'notausers' },
      { key: 'local_recipient_maps', value: '' },
    ]);
  });

  test('a second enable changes nothing', () => {
    expect(enableEdits(guardedSettings('notausers'), 'notausers')).toEqual([]);
    expect(isGuarded(guardedSettings('notausers'), 'notausers')).toBe(true);
    expect(isGuarded(guardedSettings('notausers'), 'other')).toBe(false);
  });

  test('restore removes keys that were absent (default again) rather than writing the default value', () => {
    expect(restoreEdits(guardedSettings('notausers'), DEBIAN_DEFAULT)).toEqual([
      { key: 'luser_relay', remove: true },
      { key: 'local_recipient_maps', remove: true },
    ]);
  });

  test('only differing keys are touched', () => {
    const current: Settings = { luser_relay: { set: true, value: 'notausers' }, local_recipient_maps: { set: true, value: 'hash:/x' } };
    expect(enableEdits(current, 'notausers')).toEqual([{ key: 'local_recipient_maps', value: '' }]);
  });

  test('enable then restore returns any starting main.cf exactly (property)', () => {
    const setting = fc.oneof(fc.constant(UNSET), fc.string({ maxLength: 20 }).map((v): Setting => ({ set: true, value: v })));
    fc.assert(fc.property(setting, setting, fc.constantFrom('notausers', 'bin-hole'), (a, b, account) => {
      const before: Settings = { luser_relay: a, local_recipient_maps: b };
      const on = applyModel(before, enableEdits(before, account));
      expect(isGuarded(on, account)).toBe(true);
      expect(applyModel(on, restoreEdits(on, before))).toEqual(before);
    }));
  });
});
