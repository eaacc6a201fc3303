/** Reading every set's header from one `ipset list -t`, and deciding from it what start must still do. */
import { describe, expect, test } from 'vitest';
import { parseSetHeaders, settingsMatch, setWork, type SetHeader } from '../../../src/apply/ipset-headers.js';
import type { IpsetSpec } from '../../../src/model.js';

const SSH: IpsetSpec = { name: 'f2b-SSH', family: 'inet', type: 'hash:ip', maxelem: 262144 };
const SSH6: IpsetSpec = { name: 'f2b6-SSH', family: 'inet6', type: 'hash:ip', maxelem: 262144 };

/** ipset v7.17's `list -t`, verbatim apart from the initval: one set of ours, one from an older build. */
const LISTING = [
  'Name: f2b-SSH',
  'Type: hash:ip',
  'Revision: 6',
  'Header: family inet hashsize 4096 maxelem 262144 timeout 0 bucketsize 12 initval 0x1',
  'Size in memory: 200',
  'References: 1',
  'Number of entries: 3',
  '',
  'Name: f2b-old',
  'Type: hash:ip',
  'Revision: 6',
  'Header: family inet hashsize 1024 maxelem 1024 bucketsize 12 initval 0x2',
  'Size in memory: 256',
  'References: 0',
  'Number of entries: 1',
  '',
].join('\n');

const OURS: SetHeader = parseSetHeaders(LISTING).get('f2b-SSH')!;

describe('parseSetHeaders', () => {
  test('one header per set: type, the Header words, the entry count', () => {
    const sets = parseSetHeaders(LISTING);
    expect([...sets.keys()]).toEqual(['f2b-SSH', 'f2b-old']);
    expect(sets.get('f2b-SSH')).toEqual({
      type: 'hash:ip',
      settings: ['family', 'inet', 'hashsize', '4096', 'maxelem', '262144', 'timeout', '0', 'bucketsize', '12', 'initval', '0x1'],
      entries: 3,
    });
    expect(sets.get('f2b-old')?.entries).toBe(1);
  });

  test('no sets, and an ipset that prints no count', () => {
    expect(parseSetHeaders('').size).toBe(0);
    expect(parseSetHeaders('Name: a\nType: hash:net\nHeader: family inet6\n').get('a')).toEqual({ type: 'hash:net', settings: ['family', 'inet6'] });
  });
});

describe('settingsMatch', () => {
  test('our own set matches; another type, family, maxelem or no timeout support does not', () => {
    const other = (settings: string) => ({ ...OURS, settings: settings.split(' ') });
    expect(settingsMatch(OURS, SSH)).toBe(true);
    expect(settingsMatch(parseSetHeaders(LISTING).get('f2b-old')!, { ...SSH, name: 'f2b-old' })).toBe(false);
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
    const old = parseSetHeaders(LISTING).get('f2b-old')!;
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
