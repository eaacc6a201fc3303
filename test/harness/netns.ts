/**
 * A throwaway network lab in `ip netns`: a router with a LAN bridge (192.0.2.0/24) and a WAN bridge
 * (198.51.100.0/24), plus a "friends" bridge (203.0.113.0/24), and hosts hung off them by veth pairs. Nothing has a
 * route off this machine; the firewall under test runs in its own namespace, never in the host's.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';

export type Segment = 'lan' | 'wan' | 'friends';
const SEGMENTS: Readonly<Record<Segment, { net: string; gw: string; net6: string }>> = {
  lan: { net: '192.0.2', gw: '192.0.2.1', net6: '2001:db8:1::' },
  wan: { net: '198.51.100', gw: '198.51.100.1', net6: '2001:db8:2::' },
  friends: { net: '203.0.113', gw: '203.0.113.1', net6: '2001:db8:3::' },
};

export interface HostSpec { readonly name: string; readonly segment: Segment; readonly octet: number }

/**
 * The firewall under test at MYIP 192.0.2.10 with a neighbour on each segment: its local subnet (lan), the world
 * (out) and a network the configs trust (friend), the hosts most packet tests need.
 */
export const FW_AND_NEIGHBOURS: readonly HostSpec[] = [
  { name: 'fw', segment: 'lan', octet: 10 },
  { name: 'lan', segment: 'lan', octet: 20 },
  { name: 'out', segment: 'wan', octet: 20 },
  { name: 'friend', segment: 'friends', octet: 20 },
];

/**
 * A host on its own point-to-point veth link behind another lab host (`via`), which gets `gwIp` on interface
 * `iface` (default eth1), forwards IPv4 and becomes this host's default gateway: for forwarding and SNAT tests.
 */
export interface BehindSpec {
  readonly name: string;
  readonly via: string;
  readonly ip: string;
  readonly gwIp: string;
  readonly prefix: number;
  readonly iface?: string;
}

export interface LabOptions {
  /** Also give the segments IPv6 (2001:db8:<segment>::/64, documentation addresses) with the router forwarding. */
  readonly ipv6?: boolean;
  readonly behind?: readonly BehindSpec[];
}

export interface Host {
  readonly ns: string;
  /**
   * This host's commands see a fail2ban of the test's own (its paths bound over the system's in a private mount
   * namespace): the CLI may find and start it there, and writes its files to that /etc/fail2ban. Otherwise the CLI
   * under test is kept from the machine's fail2ban (harness/no-fail2ban.ts).
   */
  readonly ownFail2ban?: boolean;
  readonly ip: string;
  readonly iface: string;
  /** The host's IPv6 address when the lab was built with `ipv6: true` (segment hosts only). */
  readonly ip6?: string;
  exec(argv: readonly string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export interface Lab {
  readonly id: string;
  readonly router: Host;
  readonly hosts: Readonly<Record<string, Host>>;
  destroy(): Promise<void>;
}

async function sh(argv: readonly string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}) {
  const r = await execa(argv[0]!, argv.slice(1), {
    reject: false, input: opts.input, env: opts.env, timeout: opts.timeoutMs ?? 60_000,
    stdin: opts.input === undefined ? 'ignore' : undefined,
  });
  return { exitCode: r.exitCode ?? 124, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function must(argv: readonly string[]): Promise<void> {
  const r = await sh(argv);
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
}

const nsHost = (ns: string, ip: string, iface: string, ip6?: string): Host => ({
  ns, ip, iface, ...(ip6 === undefined ? {} : { ip6 }),
  exec: (argv, opts) => sh(['ip', 'netns', 'exec', ns, ...argv], opts),
});

/** Builds the lab; every name carries a random id so parallel test files never collide. */
export async function createLab(hosts: readonly HostSpec[], options: LabOptions = {}): Promise<Lab> {
  const id = randomBytes(3).toString('hex');
  const routerNs = `tsfw-${id}-r`;
  const created: string[] = [];
  const lab: Lab = {
    id,
    router: nsHost(routerNs, SEGMENTS.lan.gw, 'br-lan'),
    hosts: {},
    destroy: async () => { for (const ns of created.reverse()) await sh(['ip', 'netns', 'del', ns]); },
  };
  try {
    await must(['ip', 'netns', 'add', routerNs]);
    created.push(routerNs);
    const r = (argv: string[]) => must(['ip', '-n', routerNs, ...argv]);
    await r(['link', 'set', 'lo', 'up']);
    for (const [seg, { gw }] of Object.entries(SEGMENTS)) {
      await r(['link', 'add', `br-${seg}`, 'type', 'bridge']);
      await r(['addr', 'add', `${gw}/24`, 'dev', `br-${seg}`]);
      await r(['link', 'set', `br-${seg}`, 'up']);
    }
    await must(['ip', 'netns', 'exec', routerNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    if (options.ipv6) {
      await must(['ip', 'netns', 'exec', routerNs, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
      // nodad: the addresses are usable at once instead of after duplicate address detection (~1-2 s).
      for (const [seg, { net6 }] of Object.entries(SEGMENTS)) await r(['addr', 'add', `${net6}1/64`, 'dev', `br-${seg}`, 'nodad']);
    }
    const out: Record<string, Host> = {};
    // Hosts are independent of each other, so they are built side by side; every one settles before a failure is
    // reported, so destroy() sees every namespace that was made.
    const built = await Promise.allSettled(hosts.map(async (spec, i) => {
      const ns = `tsfw-${id}-${spec.name}`;
      await must(['ip', 'netns', 'add', ns]);
      created.push(ns);
      const { net, gw, net6 } = SEGMENTS[spec.segment];
      const ip = `${net}.${spec.octet}`;
      const outer = `v${id}${i}`;
      await must(['ip', 'link', 'add', outer, 'netns', routerNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await r(['link', 'set', outer, 'master', `br-${spec.segment}`]);
      await r(['link', 'set', outer, 'up']);
      const h = (argv: string[]) => must(['ip', '-n', ns, ...argv]);
      await h(['link', 'set', 'lo', 'up']);
      await h(['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await h(['link', 'set', 'eth0', 'up']);
      await h(['route', 'add', 'default', 'via', gw]);
      const ip6 = options.ipv6 ? `${net6}${spec.octet}` : undefined;
      if (ip6 !== undefined) {
        await h(['addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad']);
        await h(['-6', 'route', 'add', 'default', 'via', `${net6}1`]);
      }
      out[spec.name] = nsHost(ns, ip, 'eth0', ip6);
    }));
    const failed = built.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed) throw failed.reason;
    for (const [i, spec] of (options.behind ?? []).entries()) {
      const gateway = out[spec.via];
      if (!gateway) throw new Error(`behind: no host named ${spec.via}`);
      const ns = `tsfw-${id}-${spec.name}`;
      await must(['ip', 'netns', 'add', ns]);
      created.push(ns);
      const gwIface = spec.iface ?? 'eth1';
      await must(['ip', 'link', 'add', `b${id}${i}`, 'netns', gateway.ns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      const g = (argv: string[]) => must(['ip', '-n', gateway.ns, ...argv]);
      await g(['link', 'set', `b${id}${i}`, 'name', gwIface]);
      await g(['addr', 'add', `${spec.gwIp}/${spec.prefix}`, 'dev', gwIface]);
      await g(['link', 'set', gwIface, 'up']);
      await must(['ip', 'netns', 'exec', gateway.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      const h = (argv: string[]) => must(['ip', '-n', ns, ...argv]);
      await h(['link', 'set', 'lo', 'up']);
      await h(['addr', 'add', `${spec.ip}/${spec.prefix}`, 'dev', 'eth0']);
      await h(['link', 'set', 'eth0', 'up']);
      await h(['route', 'add', 'default', 'via', spec.gwIp]);
      out[spec.name] = nsHost(ns, spec.ip, 'eth0');
    }
    return { ...lab, hosts: out };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/**
 * Starts a TCP listener on each port in the host's namespace (bounded lifetime); answers "hello".
 * `bind` '::' listens on IPv6 and IPv4 alike. A client's reset (canConnect closes at once) must not kill it.
 */
export function listen(host: Host, ports: readonly number[], lifetimeMs = 600_000, bind = '0.0.0.0'): Promise<() => void> {
  const code = `const net=require('net');let n=0;const ps=${JSON.stringify(ports)};for(const p of ps){net.createServer(s=>{s.on('error',()=>{});s.end('hello\\n')}).listen(p,${JSON.stringify(bind)},()=>{if(++n===ps.length)console.log('ready')})}setTimeout(()=>process.exit(0),${lifetimeMs})`;
  return startServer(host, code, 'listener');
}

/**
 * Runs a Node snippet as a server in the host's namespace and resolves once it prints its first line (its "ready",
 * printed when bound), or rejects after 10 s; the returned function kills it. The snippet bounds its own lifetime.
 */
export async function startServer(host: Host, code: string, what: string): Promise<() => void> {
  const child = execa('ip', ['netns', 'exec', host.ns, process.execPath, '-e', code], { reject: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 10_000);
    child.stdout?.once('data', () => { clearTimeout(timer); resolve(); });
  });
  return () => { child.kill('SIGKILL'); };
}

/** One TCP connect attempt from `from` to ip:port, bounded by timeoutMs; true when the connection opened. */
export async function canConnect(from: Host, ip: string, port: number, timeoutMs = 1500, sourceIp?: string): Promise<boolean> {
  const code = `const s=require('net').connect({host:${JSON.stringify(ip)},port:${port}${sourceIp ? `,localAddress:${JSON.stringify(sourceIp)}` : ''}});` +
    `s.on('connect',()=>{s.destroy();process.exit(0)});s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),${timeoutMs})`;
  const r = await from.exec([process.execPath, '-e', code], { timeoutMs: timeoutMs + 10_000 });
  return r.exitCode === 0;
}
