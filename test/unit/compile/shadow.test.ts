import { describe, expect, test } from 'vitest';
import { covers, findShadowed } from '../../../src/compile/shadow.js';
import type { Rule } from '../../../src/model.js';

const rule = (match: Rule['match'], kind: 'ACCEPT' | 'DROP' = 'ACCEPT'): Rule =>
  ({ chain: 'INPUT', group: 'services', match, target: { kind } });

describe('the seed\'s own shadowed rules are found', () => {
  test('"source is MYIP" drop behind the trusted-subnet accept', () => {
    const found = findShadowed([rule({ src: { cidr: '129.67.103.0/24' } }), rule({ src: { cidr: '129.67.103.181/32' } }, 'DROP')]);
    expect(found).toEqual([expect.stringMatching(/"-s 129.67.103.181\/32 -j DROP" can never match: "-s 129.67.103.0\/24 -j ACCEPT"/)]);
  });

  test('the SSH limiter behind a plain port-22 accept (script slide 5)', () => {
    const found = findShadowed([
      rule({ proto: 'tcp', dports: ['22'] }),
      rule({ proto: 'tcp', dports: ['22'], rateLimit: { name: 'SSH', hits: 3, seconds: 180 } }),
    ]);
    expect(found).toEqual(['rule "-p tcp -m tcp --dport 22 -m recent --update --seconds 180 --hitcount 3 --name SSH --rsource -j DROP; ' +
      '-p tcp -m tcp --dport 22 -m recent --set --name SSH --rsource -j ACCEPT" can never match: "-p tcp -m tcp --dport 22 -j ACCEPT" comes first and matches all its packets']);
  });
});

describe('covers', () => {
  test('conditional matches never cover (ban sets, xt_limit); a hit-rate limit ends every packet of its match, so it does', () => {
    expect(covers({ srcSet: 'f2b-SSH' }, { src: { cidr: '198.51.100.1/32' } })).toBe(false);
    expect(covers({ limit: { rate: '3/min', burst: 5 }, proto: 'tcp' }, { proto: 'tcp' })).toBe(false);
    expect(covers({ rateLimit: { name: 'S', hits: 3, seconds: 60 }, proto: 'tcp' }, { proto: 'tcp', dports: ['22'] })).toBe(true);
  });

  test('ports: single, multiport and ranges', () => {
    expect(covers({ proto: 'tcp', dports: ['1:1024'] }, { proto: 'tcp', dports: ['22', '80'] })).toBe(true);
    expect(covers({ proto: 'tcp', dports: ['80', '443'] }, { proto: 'tcp', dports: ['80', '8080'] })).toBe(false);
    expect(covers({ proto: 'udp', dports: ['53'] }, { proto: 'tcp', dports: ['53'] })).toBe(false);
  });

  test('negated destinations: "not for me" covers packets to another address, not to me', () => {
    const notMe = { dst: { cidr: '192.0.2.10/32', negate: true } };
    expect(covers(notMe, { dst: { cidr: '192.0.2.99/32' } })).toBe(true);
    expect(covers(notMe, { dst: { cidr: '192.0.2.10/32' } })).toBe(false);
    expect(covers(notMe, {})).toBe(false);
  });

  test('connection states and interfaces', () => {
    expect(covers({ ctstate: ['ESTABLISHED', 'RELATED'] }, { ctstate: ['ESTABLISHED'] })).toBe(true);
    expect(covers({ ctstate: ['ESTABLISHED'] }, { ctstate: ['NEW'] })).toBe(false);
    expect(covers({ ctstate: ['ESTABLISHED'] }, {})).toBe(false);
    expect(covers({ inIface: 'lo' }, { inIface: 'eth0' })).toBe(false);
  });
});
