import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { BLOCKLIST_FIELDS, GLOBAL_KEYS, SERVICE_FIELDS } from '../../../src/config/schema.js';

const EXAMPLE = readFileSync(new URL('../../../packaging/tsfirewall.default', import.meta.url), 'utf8');

test('the shipped example documents every key', () => {
  for (const key of Object.keys(GLOBAL_KEYS)) expect(EXAMPLE).toMatch(new RegExp(`^${key}=`, 'm'));
  for (const field of Object.keys(SERVICE_FIELDS)) expect(EXAMPLE).toMatch(new RegExp(`^#SERVICE_SSH_${field}=`, 'm'));
  for (const field of Object.keys(BLOCKLIST_FIELDS)) expect(EXAMPLE).toMatch(new RegExp(`^#BLOCKLIST_[A-Z]+_${field}=`, 'm'));
});

test('the shipped example, as shipped, means the same as no config at all', () => {
  const example = parseConfig(EXAMPLE, '/etc/default/tsfirewall');
  expect(example.warnings).toEqual([]);
  expect({ ...example.config, source: undefined }).toEqual(parseConfig('').config);
});
