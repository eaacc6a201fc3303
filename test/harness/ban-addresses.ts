/**
 * Addresses to ban in bulk, for the tests and the bench alike. TEST-NET has only 768 host addresses, so they come
 * from 198.18.0.0/15 (RFC 2544, reserved for benchmarking): they only ever sit in a set or a chain inside a lab
 * namespace or container, and no packet is sent to or from them.
 */
export const MAX_BANS = 131_000;

/** The i-th address (0-based), distinct for every i below MAX_BANS. */
export function banAddress(i: number): string {
  if (i < 0 || i >= MAX_BANS) throw new RangeError(`ban index ${i} outside 198.18.0.0/15`);
  const n = i + 1;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** The first `count` of them. */
export const banAddresses = (count: number) => Array.from({ length: count }, (_, i) => banAddress(i));
