import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { fleetNodeConfig } from '../../harness/nats.js';
import { DOC_EXAMPLE } from '../../harness/nats-doc.js';

const DOC = readFileSync(new URL('../../../docs/fleet.md', import.meta.url), 'utf8');

// The integration tests (test/integration/fleet*.test.ts) run their three nodes on fleetNodeConfig's text: the
// doc's example is that text, for the example's own names, so what the doc shows is what was tested.
test('docs/fleet.md shows the node config the fleet tests run', () => {
  const block = /<!-- node config: fleetNodeConfig -->\n```conf\n([\s\S]*?)```/.exec(DOC)?.[1];
  expect(block, 'the marked conf block in docs/fleet.md').toBeDefined();
  expect(block).toBe(fleetNodeConfig(DOC_EXAMPLE));
});
