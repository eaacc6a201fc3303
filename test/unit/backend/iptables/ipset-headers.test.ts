/** Deciding from the sets' headers (one `ipset list -t`) what start must still do about the ban sets. */
import { describe, expect, test } from 'vitest';
import { settingsMatch, setWork } from '../../../../src/backend/iptables/ipset-headers.js';
import { parseSetHeaders, type SetHeader } from '../../../../src/backend/iptables/ipset-list.js';
import type { IpsetSpec } from '../../../../src/model.js';
import { IPSET_LISTING } from '../../fixtures.js';

const SSH: IpsetSpec = { name: 'f2b-SSH', family: 'inet', type: 'hash:ip', maxelem: 262144 };
const SSH6: IpsetSpec = { name: 'f2b6-SSH', family: 'inet6', type: 'hash:ip', maxelem: 262144 };

const OURS: SetHeader = parseSetHeaders(IPSET_LISTING).get('f2b-SSH')!;

describe('settingsMatch', () => {
  test('our own set matches; another type, family, maxelem or no timeout support does not', () => {
    const other = (settings: string) => ({ ...OURS, settings: settings.split(' ') });
    expect(settingsMatch(OURS, SSH)).toBe(true);
    expect(settingsMatch(parseSetHeaders(IPSET_LISTING).get('f2b-old')!, { ...SSH, name: 'f2b-old' })).toBe(false);
    expect(settingsMatch({ ...OURS, type: 'hash:net' }, SSH)).toBe(false);
    expect(settingsMatch(other('family inet6 hashsize 4096 maxelem 262144 timeout 0'), SSH)).toBe(false);
    expect(settingsMatch(other('family inet hashsize 4096 maxelem 65536 timeout 0'), SSH)).toBe(false);
    expect(settingsMatch(other('family inet hashsize 4096 maxelem 262144'), SSH)).toBe(false);
    expect(settingsMatch(other('family inet hashsize 4096 timeout 0'), SSH)).toBe(false);
  });
});

describe('setWork: what start still has to run', () => {
  const listed = (...sets: [string, SetHeader][]) => new Map(sets);

  test('every set present with our settings: nothing (no ipset restore)', () => {
    const v6 = { ...OURS, settings: OURS.settings.map((w) => (w === 'inet' ? 'inet6' : w)) };
    expect(setWork([SSH, SSH6], listed(['f2b-SSH', OURS], ['f2b6-SSH', v6], ['other', OURS]))).toEqual({ create: [], rebuild: [] });
  });

  test('one set present with other settings: that one is rebuilt, nothing created', () => {
    const old = parseSetHeaders(IPSET_LISTING).get('f2b-old')!;
    expect(setWork([SSH, SSH6], listed(['f2b-SSH', old], ['f2b6-SSH', { ...OURS, settings: ['family', 'inet6', 'maxelem', '262144', 'timeout', '0'] }])))
      .toEqual({ create: [], rebuild: [SSH] });
  });

  test('a missing set is created; present ones with our settings are left alone', () => {
    expect(setWork([SSH, SSH6], listed(['f2b-SSH', OURS]))).toEqual({ create: [SSH6], rebuild: [] });
    expect(setWork([SSH], listed())).toEqual({ create: [SSH], rebuild: [] });
  });

  test('an unknown listing (ipset list failed): every set goes to ipset restore -exist, as before this read existed', () => {
    expect(setWork([SSH, SSH6], undefined)).toEqual({ create: [SSH, SSH6], rebuild: [] });
  });

  test('no planned sets: nothing, whatever exists', () => {
    expect(setWork([], undefined)).toEqual({ create: [], rebuild: [] });
  });
});
