import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { expect, test } from 'vitest';
import { parseBanAddress } from '../../../src/bans/ip.js';

// parseBanAddress checks IPv4 text with one regular expression instead of ipaddr (for 10k-address batches); it must
// accept and refuse exactly what ipaddr's four-part-decimal check plus its unspecified/broadcast ranges did.
function viaIpaddr(raw: string): string | undefined {
  const text = raw.trim();
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return 'not-ipv4';
  const addr = ipaddr.IPv4.parse(text);
  return ['unspecified', 'broadcast'].includes(addr.range()) ? undefined : addr.toString();
}

const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '007', '0x1', '', '-1', ' 1', '1e2', '٣'));
const text = fc.oneof(
  fc.array(part, { minLength: 4, maxLength: 4 }).map((p) => p.join('.')),
  fc.array(part, { minLength: 1, maxLength: 6 }).map((p) => p.join('.')),
  fc.constantFrom('0.0.0.0', '0.1.2.3', '255.255.255.255', '255.255.255.254', '1.2.3.4.', '.1.2.3.4', '1..2.3'),
);

test('IPv4 text: the regular expression agrees with ipaddr', () => {
  fc.assert(fc.property(text, (t) => {
    const expected = viaIpaddr(t);
    const got = parseBanAddress(t);
    if (expected === 'not-ipv4') expect(got?.family).not.toBe('ipv4');
    else expect(got?.ip).toBe(expected);
  }), { numRuns: 20_000 });
});
