import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { interfaceNames } from '../../../src/discover/host.js';

const dir = mkdtempSync(join(tmpdir(), 'tsfw-procdev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('interfaceNames lists every interface in /proc/net/dev, addressed or not', () => {
  const path = join(dir, 'dev');
  writeFileSync(path, [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    '  eth0:    1234      10    0    0    0     0          0         0      567       5    0    0    0     0       0          0',
    '  nov4:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    '',
  ].join('\n'));
  expect(interfaceNames(path)).toEqual(['lo', 'eth0', 'nov4']);
  expect(interfaceNames(join(dir, 'missing'))).toBeUndefined();
});
