import fc from 'fast-check';
import { expect, test } from 'vitest';
import { covers, findShadowed } from '../../../src/compile/shadow.js';
import type { Rule } from '../../../src/model.js';
import { describeRule } from '../../../src/compile/describe.js';

// findShadowed indexes earlier rules by source network for speed; it must report exactly what the plain pairwise
// definition reports: for each rule, the first earlier terminal rule of the same chain that covers it.
function reference(rules: readonly Rule[]): string[] {
  const found: string[] = [];
  rules.forEach((later, j) => {
    const earlier = rules.slice(0, j).find((r) =>
      r.chain === later.chain && ['ACCEPT', 'DROP', 'RETURN'].includes(r.target.kind) && covers(r.match, later.match));
    if (earlier) found.push(`rule "${describeRule(later)}" can never match: "${describeRule(earlier)}" comes first and matches all its packets`);
  });
  return found;
}

const CIDRS = ['192.0.2.0/24', '192.0.2.0/25', '192.0.2.10/32', '192.0.2.200/32', '0.0.0.0/0', '198.51.100.7/32',
  '2001:db8::/32', '2001:db8::1/128', '127.0.0.0/8'];
const addr = fc.option(fc.record({ cidr: fc.constantFrom(...CIDRS), negate: fc.boolean() }), { nil: undefined });
const rule: fc.Arbitrary<Rule> = fc.record({
  chain: fc.constantFrom('INPUT', 'FORWARD'),
  group: fc.constant('services' as const),
  match: fc.record({
    src: addr,
    dst: addr,
    proto: fc.option(fc.constantFrom('tcp' as const, 'udp' as const), { nil: undefined }),
    dports: fc.option(fc.constantFrom(['22'], ['80', '443'], ['1:1024']), { nil: undefined }),
  }),
  target: fc.constantFrom({ kind: 'ACCEPT' as const }, { kind: 'DROP' as const }, { kind: 'LOG' as const, prefix: 'x' }),
});

test('the indexed search finds the same shadowed rules as the pairwise definition', () => {
  fc.assert(fc.property(fc.array(rule, { maxLength: 40 }), (rules) => {
    expect(findShadowed(rules)).toEqual(reference(rules));
  }), { numRuns: 300 });
});
