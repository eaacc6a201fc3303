import dotenv from 'dotenv';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseAssignments } from '../../../src/config/assign.js';

// parseAssignments replaces dotenv.parse on the hot path; on any text, accepted by scanLines or not (multi-line
// quotes, `KEY: value`, CR line ends), the two must agree exactly.
const piece = fc.constantFrom('a', 'B', '1', ' ', '\t', '#', "'", '"', '`', '\\', 'n', 'r', '=', '.', '-', '/', ':', ',', '$', '\n', '\r');
const value = fc.array(piece, { maxLength: 14 }).map((p) => p.join(''));
const key = fc.constantFrom('A', 'MYIP', 'SERVICE_SSH_PORTS', 'x.y', 'k-1', '_K');
const line = fc.oneof(
  fc.tuple(fc.constantFrom('', ' ', 'export '), key, fc.constantFrom('=', ' = ', '= ', ' =', ': ', ':'), value).map(([e, k, eq, v]) => `${e}${k}${eq}${v}`),
  fc.constantFrom('', '# comment', '   ', '#A=1'),
);
const text = fc.array(line, { maxLength: 8 }).chain((lines) => fc.constantFrom('\n', '\r\n').map((nl) => lines.join(nl)));

describe('parseAssignments', () => {
  test('agrees with dotenv.parse on any text', () => {
    fc.assert(fc.property(text, (t) => {
      expect(parseAssignments(t)).toEqual(dotenv.parse(t));
    }), { numRuns: 5000 });
  });

  test('the documented forms', () => {
    expect(parseAssignments([
      'A=plain value # comment', "B='single # kept'", 'C="tab\\tnew\\nline"', 'export D=1', 'E=', 'F = spaced ',
      'G="a" # c', "H='a' b", 'I=x#y',
    ].join('\n'))).toEqual({
      A: 'plain value', B: 'single # kept', C: 'tab\\tnew\nline', D: '1', E: '', F: 'spaced', G: 'a', H: "'a' b", I: 'x',
    });
  });
});
