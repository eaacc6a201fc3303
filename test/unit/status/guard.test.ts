/**
 * The watcher's guard, its pure parts: which lines of `nft monitor ruleset` make it look at the rules (changes to
 * our table's chains, rules and sets, and a flush of everything; not ban elements coming and going, nor other
 * tables), and when problems a repair did not mend are reported again.
 */
import { expect, test } from 'vitest';
import { nextReport, touchesOurTable } from '../../../src/status/guard.js';

test('our table\'s objects and a ruleset flush are looked at; set elements and other tables are not', () => {
  for (const line of [
    'delete rule inet tsfirewall input4 handle 18',
    'add chain inet tsfirewall input4',
    'delete table inet tsfirewall',
    'add rule inet tsfirewall input6 ip6 saddr 2001:db8::1 accept',
    'flush ruleset',
  ]) expect(touchesOurTable(line), line).toBe(true);
  for (const line of [
    'add element inet tsfirewall f2b-SSH { 198.51.100.9 }',
    'delete element inet tsfirewall f2b-SSH { 198.51.100.9 }',
    'add rule ip filter DOCKER-USER counter packets 0 bytes 0 return',
    'delete table inet tsfirewallx',
    '',
  ]) expect(touchesOurTable(line), line).toBe(false);
});

test('a repair that mends nothing is reported again after 10 s, then 20, 40... up to 10 min; new problems at once; whole forgets', () => {
  const flushed = ['IPv4 chain INPUT: our jump into tsfw-input is gone'];
  let r = nextReport(undefined, flushed, 0);
  expect(r.report).toBe(true);
  const times: number[] = [];
  for (let now = 1000; now <= 3_600_000; now += 1000) {
    r = nextReport(r.last, flushed, now);
    if (r.report) times.push(now);
  }
  expect(times.slice(0, 5)).toEqual([10_000, 30_000, 70_000, 150_000, 310_000]);
  expect(times[6]! - times[5]!).toBe(600_000);
  expect(nextReport(r.last, ['IPv4 chain tsfw-input: the final DROP (tsfw:policy) is gone'], times.at(-1)! + 1).report).toBe(true);
  const whole = nextReport(r.last, [], times.at(-1)! + 2);
  expect(whole).toEqual({ report: false, last: undefined });
  expect(nextReport(whole.last, flushed, times.at(-1)! + 3).report).toBe(true);
});
