/** The example names docs/fleet.md shows its node config with (test/unit/harness/fleet-doc.test.ts holds them together). */
import type { FleetUser, NodeSpec } from './nats.js';

const nodes: readonly NodeSpec[] = [{ name: 'n1', ip: '198.51.100.41' }, { name: 'n2', ip: '198.51.100.42' }, { name: 'n3', ip: '198.51.100.43' }];
const users: readonly FleetUser[] = [
  { host: 'web1', nkey: 'UAWEB1PUBLICKEYFROMNKEYSCREATEUSERXXXXXXXXXXXXXXXXXXXXXX' },
  { host: 'web2', nkey: 'UAWEB2PUBLICKEYFROMNKEYSCREATEUSERXXXXXXXXXXXXXXXXXXXXXX' },
];
export const DOC_EXAMPLE = { node: nodes[0]!, nodes, dir: '/etc/nats', store: '/var/lib/nats', users };
