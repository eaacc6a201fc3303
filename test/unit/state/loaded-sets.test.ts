/**
 * The ban sets the loaded-ruleset record accounts for (issue 14, item 11): every set a ruleset loaded since the last
 * stop named, carried from record to record by the same backend, so stop finds a set a reload stopped using.
 */
import { describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import { loadedSets, recordOf, withCarriedSets } from '../../../src/state/loaded.js';
import { SEED_HOST, config } from '../fixtures.js';

const recordFor = (text: string, backend = 'iptables-nft') => ({ ...recordOf(SEED_HOST, compile(config(text), SEED_HOST)), backend });
const mirror = recordFor('IPV6=mirror');
const drop = recordFor('IPV6=drop');

describe('the ban sets a record accounts for', () => {
  test('a plan\'s own sets, read from its rules when the record predates the list', () => {
    expect(loadedSets(mirror)).toEqual(['f2b-SSH', 'f2b6-SSH']);
    expect(loadedSets(drop)).toEqual(['f2b-SSH']);
    expect(loadedSets({ rules: 'not json' })).toEqual([]);
    expect(loadedSets(recordFor('BAN_MODE=chain'))).toEqual([]);
  });

  test('a reload from mirror to drop keeps f2b6-SSH on the record: it is still in the kernel until stop', () => {
    const after = withCarriedSets(drop, withCarriedSets(mirror, undefined));
    expect(after.sets).toEqual(['f2b-SSH', 'f2b6-SSH']);
    expect(after.rules).toBe(drop.rules);
    expect(withCarriedSets(drop, after).sets).toEqual(['f2b-SSH', 'f2b6-SSH']);
  });

  test('another backend\'s record carries nothing over; a plan without sets leaves the list out', () => {
    expect(withCarriedSets(drop, { ...mirror, backend: 'nftables' }).sets).toEqual(['f2b-SSH']);
    expect(withCarriedSets(recordFor('BAN_MODE=chain'), undefined)).not.toHaveProperty('sets');
  });
});
