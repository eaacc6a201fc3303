/**
 * Real nats-server nodes for the fleet tests: a CA and one certificate per node made here with openssl, the node
 * configs docs/fleet.md shows (fleetNodeConfig is that text, and a test holds the doc to it), and the processes run
 * by hand inside lab namespaces with their own store directories, never as a service of this machine.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from './netns.js';

export interface NodeSpec { readonly name: string; readonly ip: string }
export interface FleetUser { readonly host: string; readonly nkey: string }

/** What each host may publish: its own subject and the JetStream API calls tsfirewall's service makes. */
export const HOST_API = [
  '$JS.API.INFO',
  '$JS.API.STREAM.INFO.TSFW_BANS',
  '$JS.API.STREAM.CREATE.TSFW_BANS',
  '$JS.API.CONSUMER.CREATE.TSFW_BANS.>',
  '$JS.API.CONSUMER.INFO.TSFW_BANS.>',
  '$JS.API.CONSUMER.DELETE.TSFW_BANS.>',
  '$JS.API.CONSUMER.MSG.NEXT.TSFW_BANS.>',
];

const q = (s: string) => `"${s}"`;

/** One node's config; `users` are the fleet's hosts, each with its nkey and the right to publish its own subject only. */
export function fleetNodeConfig(o: { readonly node: NodeSpec; readonly nodes: readonly NodeSpec[]; readonly dir: string; readonly store?: string; readonly users: readonly FleetUser[] }): string {
  // Each host: its own subject, and the JetStream API calls the fleet service makes (nothing that deletes, purges
  // or edits the stream).
  const user = (u: FleetUser) => `      {
        nkey: ${u.nkey}  # ${u.host}
        permissions: {
          publish: { allow: [${[`tsfw.bans.${u.host}.>`, ...HOST_API].map(q).join(', ')}] }
          subscribe: { allow: ["_INBOX.>"] }
        }
      }`;
  return `# nats-server 2.9 node ${o.node.name} of the tsfirewall fleet (docs/fleet.md)
server_name: ${o.node.name}
listen: ${o.node.ip}:4222
tls {
  cert_file: ${q(join(o.dir, `${o.node.name}.pem`))}
  key_file: ${q(join(o.dir, `${o.node.name}.key`))}
  ca_file: ${q(join(o.dir, 'ca.pem'))}
}
jetstream {
  store_dir: ${q(join(o.store ?? o.dir, `store-${o.node.name}`))}
  max_memory_store: 64MB
  max_file_store: 1GB
}
cluster {
  name: tsfw-fleet
  listen: ${o.node.ip}:6222
  # The nodes prove themselves to each other with certificates of the same CA.
  tls {
    cert_file: ${q(join(o.dir, `${o.node.name}.pem`))}
    key_file: ${q(join(o.dir, `${o.node.name}.key`))}
    ca_file: ${q(join(o.dir, 'ca.pem'))}
    verify: true
  }
  routes: [
${o.nodes.filter((n) => n.name !== o.node.name).map((n) => `    nats-route://${n.ip}:6222`).join('\n')}
  ]
}
accounts {
  FLEET: {
    jetstream: enabled
    users: [
${o.users.map(user).join('\n')}
    ]
  }
}
`;
}

async function must(argv: readonly string[], cwd?: string): Promise<void> {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, cwd, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
}

/** A throwaway CA and a certificate for each node's IP address (the clients connect by address). */
export async function makePki(dir: string, nodes: readonly NodeSpec[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await must(['openssl', 'req', '-x509', ...ec, '-subj', '/CN=tsfirewall fleet test CA', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem'], dir);
  for (const n of nodes) {
    writeFileSync(join(dir, `${n.name}.ext`), `subjectAltName=IP:${n.ip}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    await must(['openssl', 'req', '-new', ...ec, '-subj', `/CN=${n.name}`, '-keyout', `${n.name}.key`, '-out', `${n.name}.csr`], dir);
    await must(['openssl', 'x509', '-req', '-in', `${n.name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', `${n.name}.ext`, '-out', `${n.name}.pem`], dir);
  }
  return join(dir, 'ca.pem');
}

export interface RunningNode { readonly spec: NodeSpec; kill(signal?: NodeJS.Signals): Promise<void>; readonly log: string }

/** Starts nats-server in `host`'s namespace and resolves once it serves clients (bounded wait). */
export async function startNode(host: Host, spec: NodeSpec, conf: string, dir: string): Promise<RunningNode> {
  const confPath = join(dir, `${spec.name}.conf`);
  const log = join(dir, `${spec.name}.log`);
  writeFileSync(confPath, conf);
  const child: ResultPromise = execa('ip', ['netns', 'exec', host.ns, 'nats-server', '-c', confPath, '-l', log], { reject: false, stdin: 'ignore' });
  for (let i = 0; i < 120; i++) {
    let text = '';
    try { text = readFileSync(log, 'utf8'); } catch { /* not yet */ }
    if (text.includes('Server is ready')) break;
    if (child.exitCode !== undefined && child.exitCode !== null) throw new Error(`nats-server ${spec.name} exited: ${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    spec, log,
    kill: async (signal = 'SIGTERM') => { child.kill(signal); await child; },
  };
}

/** An nkey user for a host: the public key for the server config, the seed for the host's FLEET_CREDS file. */
export async function userKeys(): Promise<{ publicKey: string; seed: string }> {
  const { nkeys } = await import('nats');
  const kp = nkeys.createUser();
  return { publicKey: kp.getPublicKey(), seed: new TextDecoder().decode(kp.getSeed()) };
}
