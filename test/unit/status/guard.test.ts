/**
 * Which lines of `nft monitor ruleset` make the watcher's guard look at the rules: changes to our table's chains,
 * rules and sets, and a flush of everything; not ban elements coming and going, nor other tables.
 */
import { expect, test } from 'vitest';
import { touchesOurTable } from '../../../src/status/guard.js';

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
