/** When check may run `--test` in the host's own namespace beside its ipset listing: only where that leaves no trace. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { hostTestLeavesTrace } from '../../../../src/backend/iptables/sandbox.js';

let proc: string;
beforeEach(() => { proc = mkdtempSync(join(tmpdir(), 'tsfw-proc-')); });
afterEach(() => { rmSync(proc, { recursive: true, force: true }); });

const doc = (...tables: string[]) => tables.map((t) => `*${t}\n:INPUT ACCEPT [0:0]\nCOMMIT\n`).join('');

test('nft: --test only parses, never a trace', () => {
  expect(hostTestLeavesTrace({ flavour: 'nft' }, [{ family: 'ipv4', text: doc('filter', 'nat') }], proc)).toBe(false);
});

test('legacy: a trace when a named table is not registered yet in that family, or when that cannot be read', () => {
  writeFileSync(join(proc, 'ip_tables_names'), 'nat\nfilter\n');
  writeFileSync(join(proc, 'ip6_tables_names'), 'filter\n');
  const legacy = { flavour: 'legacy' } as const;
  expect(hostTestLeavesTrace(legacy, [{ family: 'ipv4', text: doc('filter', 'nat') }, { family: 'ipv6', text: doc('filter') }], proc)).toBe(false);
  expect(hostTestLeavesTrace(legacy, [{ family: 'ipv4', text: doc('filter', 'raw') }], proc)).toBe(true);
  expect(hostTestLeavesTrace(legacy, [{ family: 'ipv6', text: doc('filter', 'nat') }], proc)).toBe(true);
  rmSync(join(proc, 'ip6_tables_names'));
  expect(hostTestLeavesTrace(legacy, [{ family: 'ipv6', text: doc('filter') }], proc)).toBe(true);
});
