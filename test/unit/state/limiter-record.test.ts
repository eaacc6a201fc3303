/**
 * A record written before the hit-rate limiter was one plan rule (fixtures/README.md: records the build before wrote)
 * reads back as what start compiles now: an upgrade alone is no drift, and intact() renders it as loaded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import { driftOf, readLoaded, recordLoaded, recordOf, type LoadedRecord } from '../../../src/state/loaded.js';
import { foldRecentPairs, folded } from '../../../src/state/limiter-record.js';
import { SEED_HOST, config } from '../fixtures.js';

const before = JSON.parse(readFileSync(new URL('./fixtures/records-before-ratelimit.json', import.meta.url), 'utf8')) as
  { default: LoadedRecord; rich: LoadedRecord & { config: string } };
const CONFIGS = { default: '', rich: before.rich.config };

let base: string;
const saved = process.env.TSFIREWALL_RUN_DIR;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsfw-limiter-record-'));
  process.env.TSFIREWALL_RUN_DIR = join(base, 'run');
});
afterEach(() => {
  if (saved === undefined) delete process.env.TSFIREWALL_RUN_DIR; else process.env.TSFIREWALL_RUN_DIR = saved;
  rmSync(base, { recursive: true, force: true });
});

describe('a record from before the limiter was one rule', () => {
  test.each(['default', 'rich'] as const)('%s: folds to the very text start records now, so there is no drift', (name) => {
    const old = before[name];
    const now = recordOf(SEED_HOST, compile(config(CONFIGS[name]), SEED_HOST));
    expect(old.rules).toContain('"op":"update"');
    expect(foldRecentPairs(old.rules)).toBe(now.rules);
    expect(recordLoaded({ addresses: old.addresses, rules: old.rules, prefix: old.prefix })).toBe(true);
    const back = readLoaded()!;
    expect(back.rules).toBe(now.rules);
    expect(driftOf(back, now, 'eth0')).toBeUndefined();
  });

  test('a record of today is returned as it is, and what is not a pair stays', () => {
    const now = recordOf(SEED_HOST, compile(config(''), SEED_HOST)).rules;
    expect(foldRecentPairs(now)).toBe(now);
    const update = { chain: 'INPUT', group: 'services', match: { proto: 'tcp', recent: { op: 'update', name: 'SSH', seconds: 60, hitcount: 5 } }, target: { kind: 'DROP' } };
    const set = { chain: 'INPUT', group: 'services', match: { proto: 'tcp', recent: { op: 'set', name: 'SSH' } }, target: { kind: 'ACCEPT' } };
    expect(folded([update, set])).toEqual([{ ...set, match: { proto: 'tcp', rateLimit: { name: 'SSH', hits: 5, seconds: 60 } } }]);
    // Another list's set, another match, or the set before the update: not the limiter's pair.
    for (const pair of [[update, { ...set, match: { proto: 'tcp', recent: { op: 'set', name: 'FTP' } } }],
      [update, { ...set, match: { proto: 'udp', recent: { op: 'set', name: 'SSH' } } }], [set, update]]) {
      expect(folded(pair)).toEqual(pair);
    }
    expect(foldRecentPairs('{not json "recent"')).toBe('{not json "recent"');
  });
});
