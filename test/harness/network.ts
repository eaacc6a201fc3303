// Internal (no route out) Docker networks on TEST-NET ranges only.
//
// On the CI VMs TEST-NET is not unused: the host's own uplink has been seen on
// 192.0.2.0/24 and the Debian mirror at 203.0.113.80. A bridge on such a subnet
// would steal the host's route, so we refuse any subnet that overlaps a host
// route or contains a mirror/gateway/DNS address.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { execa } from 'execa';
import { hostMirrorHosts } from './apt.js';
import { ensureDocker } from './dockerd.js';

export const TEST_NETS = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'] as const;
export const HARNESS_LABEL = 'tsfw.test-harness';

export interface TestNetwork {
  name: string;
  id: string;
  subnet: string;
  /** The bridge address docker gives the host side; containers get no route to it beyond the subnet. */
  gateway: string;
}

type Cidr = [ipaddr.IPv4, number];

function parseV4Cidr(cidr: string): Cidr {
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  if (addr.kind() !== 'ipv4') throw new Error(`not an IPv4 subnet: ${cidr}`);
  return [addr as ipaddr.IPv4, bits];
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return a[0].match(b[0], Math.min(a[1], b[1]));
}

// This resolver sometimes takes 5 s per query; resolve once per process.
let mirrorAddrs: Promise<string[]> | undefined;
function mirrorAddresses(): Promise<string[]> {
  mirrorAddrs ??= Promise.all(
    hostMirrorHosts().map((h) =>
      lookup(h, { all: true, family: 4 }).then((as) => as.map((a) => a.address), () => [] as string[]),
    ),
  ).then((lists) => lists.flat());
  return mirrorAddrs;
}

/** Throws unless `subnet` lies inside TEST-NET and clashes with nothing the host uses. */
export async function assertSafeSubnet(subnet: string): Promise<void> {
  const net = parseV4Cidr(subnet);
  if (!TEST_NETS.some((t) => { const tn = parseV4Cidr(t); return net[1] >= tn[1] && net[0].match(tn); })) {
    throw new Error(`refusing ${subnet}: test networks must lie within ${TEST_NETS.join(', ')}`);
  }
  const routes = JSON.parse((await execa('ip', ['-j', '-4', 'route', 'show'], { timeout: 10_000 })).stdout) as
    { dst?: string; gateway?: string; dev?: string }[];
  const addrs: string[] = [];
  for (const r of routes) {
    if (r.gateway) addrs.push(r.gateway);
    if (!r.dst || r.dst === 'default') continue;
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    if (overlaps(net, parseV4Cidr(dst))) {
      throw new Error(`refusing ${subnet}: overlaps host route ${r.dst} on ${r.dev ?? '?'}`);
    }
  }
  addrs.push(...(await mirrorAddresses()));
  try {
    for (const m of readFileSync('/etc/resolv.conf', 'utf8').matchAll(/^nameserver\s+(\S+)/gm)) addrs.push(m[1] ?? '');
  } catch {
    /* no resolv.conf */
  }
  for (const a of addrs) {
    if (ipaddr.IPv4.isValidFourPartDecimal(a) && ipaddr.IPv4.parse(a).match(net)) {
      throw new Error(`refusing ${subnet}: contains host-used address ${a}`);
    }
  }
}

async function docker(args: string[], timeout = 60_000) {
  return execa('docker', args, { reject: false, timeout });
}

/** Removes the network and force-removes containers still attached (leftovers of a crashed run). */
export async function removeNetwork(name: string): Promise<void> {
  await ensureDocker();
  const ins = await docker(['network', 'inspect', '--format', '{{range $id, $c := .Containers}}{{$id}} {{end}}', name]);
  if (ins.exitCode !== 0) return; // no such network
  const ids = ins.stdout.trim().split(/\s+/).filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids]);
  const rm = await docker(['network', 'rm', name]);
  if (rm.exitCode !== 0 && !/not found|No such network/i.test(rm.stderr)) {
    throw new Error(`docker network rm ${name}: ${rm.stderr}`);
  }
}

export async function createInternalNetwork(name: string, subnet: string): Promise<TestNetwork> {
  await ensureDocker();
  // A same-named network may be a leftover with another subnet or live containers: start clean.
  await removeNetwork(name);
  await assertSafeSubnet(subnet);
  const [base] = parseV4Cidr(subnet);
  const octets = [...base.octets];
  octets[3] = (octets[3] ?? 0) + 1;
  const gateway = octets.join('.');
  const cr = await docker([
    'network', 'create', '--driver', 'bridge', '--internal',
    '--subnet', subnet, '--gateway', gateway,
    '--label', `${HARNESS_LABEL}=1`, name,
  ]);
  if (cr.exitCode !== 0) throw new Error(`docker network create ${name}: ${cr.stderr}`);
  return { name, id: cr.stdout.trim(), subnet, gateway };
}

/**
 * Creates the network on the first candidate subnet that is free and safe on this machine (other test files and
 * the host's own routes take some); the error lists why each candidate was refused.
 */
export async function claimInternalNetwork(name: string, candidates: readonly string[]): Promise<TestNetwork> {
  const refusals: string[] = [];
  for (const subnet of candidates) {
    try {
      return await createInternalNetwork(name, subnet);
    } catch (err) {
      refusals.push(`${subnet}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no usable TEST-NET subnet for ${name}:\n${refusals.join('\n')}`);
}
