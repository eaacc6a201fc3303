/**
 * Golden documents of the issue-16 features, rendered by both backends: one `nft -f` document and one
 * iptables-restore document per family for each case of network-cases.ts
 * (test/integration/network-golden.test.ts proves each one loads). After an intended change, rewrite them with
 * UPDATE_GOLDEN=1 and review the diff like any other code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { renderRuleset } from '../../../src/backend/iptables/render.js';
import { renderDocument } from '../../../src/backend/nftables/render.js';
import { NETWORK_CASES, networkGolden } from './network-cases.js';

const golden = (file: string, actual: string) => {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(networkGolden(file), actual);
  expect(actual).toBe(readFileSync(networkGolden(file), 'utf8'));
};

describe.each(Object.keys(NETWORK_CASES))('%s', (name) => {
  test('nftables', () => golden(`${name}.nft`, renderDocument(NETWORK_CASES[name]!())));
  test('iptables, each family', () => {
    for (const ruleset of NETWORK_CASES[name]!().rulesets) golden(`${name}.${ruleset.family}.rules`, renderRuleset(ruleset));
  });
});
