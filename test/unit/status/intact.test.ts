/**
 * What status judges the kernel against: the record's plan, only for the backend that wrote it, never while an
 * apply is running, and the lines it prints for a ruleset that is not intact.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import { writeJournal, type Journal } from '../../../src/safety/journal.js';
import { loadedRulesets, recordOf } from '../../../src/state/loaded.js';
import { applyInProgress, describeProblems, loadedBy } from '../../../src/status/intact.js';
import { SEED_HOST, config } from '../fixtures.js';

let base: string;
const saved = process.env.TSFIREWALL_RUN_DIR;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsfw-intact-'));
  process.env.TSFIREWALL_RUN_DIR = join(base, 'run');
  mkdirSync(join(base, 'run'), { mode: 0o700 });
});
afterEach(() => {
  if (saved === undefined) delete process.env.TSFIREWALL_RUN_DIR; else process.env.TSFIREWALL_RUN_DIR = saved;
  rmSync(base, { recursive: true, force: true });
});

const plan = compile(config('IPV6=mirror'), SEED_HOST);
const record = { ...recordOf(SEED_HOST, plan), backend: 'iptables-nft' };

describe('what was loaded', () => {
  test('the record reads back as the plan\'s rulesets, for the backend that loaded them only', () => {
    expect(loadedRulesets(record)).toEqual({ rulesets: plan.rulesets });
    expect(loadedBy({ name: 'iptables-nft' }, record)).toEqual({ plan: { rulesets: plan.rulesets }, families: ['ipv4', 'ipv6'] });
    expect(loadedBy({ name: 'nftables' }, record)).toBeUndefined();
    expect(loadedBy({ name: 'iptables-nft' }, { rules: record.rules })).toBeUndefined();
    expect(loadedBy({ name: 'iptables-nft' }, undefined)).toBeUndefined();
  });

  test('a record that is not a plan is nothing to judge against', () => {
    for (const rules of ['*filter\nCOMMIT\n', '{"ipsets": []}', 'null']) expect(loadedBy({ name: 'iptables-nft' }, { rules, backend: 'iptables-nft' })).toBeUndefined();
  });
});

describe('an apply in progress', () => {
  const journal = (pid: number): Journal => ({
    version: 2, pid, verb: 'reload', started: new Date().toISOString(),
    before: { backend: 'iptables-nft', data: { saved: {} } }, attempted: { backend: 'iptables-nft', parts: [], data: {} },
  });

  test('none without a journal; one while its writer lives; none once it is dead (that one is judged)', () => {
    expect(applyInProgress()).toBe(false);
    writeJournal(journal(process.pid));
    expect(applyInProgress()).toBe(true);
    writeJournal(journal(2 ** 22 + 1));
    expect(applyInProgress()).toBe(false);
  });
});

test('the problems are listed under one line that says what puts them back', () => {
  expect(describeProblems(['IPv4 chain INPUT: our jump into tsfw-input is gone'])).toBe(
    'not intact: the loaded rules were changed from outside; "tsfirewall reload" puts them back:\n' +
    '  IPv4 chain INPUT: our jump into tsfw-input is gone');
});
