/** Reading every set's header from one `ipset list -t`. */
import { describe, expect, test } from 'vitest';
import { parseSetHeaders } from '../../../../src/backend/iptables/ipset-list.js';
import { IPSET_LISTING } from '../../fixtures.js';

describe('parseSetHeaders', () => {
  test('one header per set: type, the Header words, the entry count', () => {
    const sets = parseSetHeaders(IPSET_LISTING);
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
