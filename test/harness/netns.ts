/**
 * A throwaway network lab in `ip netns`: a router with a LAN bridge (192.0.2.0/24) and a WAN bridge
 * (198.51.100.0/24), plus a "friends" bridge (203.0.113.0/24), and hosts hung off them by veth pairs. Nothing has a
 * route off this machine; the firewall under test runs in its own namespace, never in the host's.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';

export type Segment = 'lan' | 'wan' | 'friends';
const SEGMENTS: Readonly<Record<Segment, { net: string; gw: string }>> = {
  lan: { net: '192.0.2', gw: '192.0.2.1' },
  wan: { net: '198.51.100', gw: '198.51.100.1' },
  friends: { net: '203.0.113', gw: '203.0.113.1' },
};

export interface HostSpec { readonly name: string; readonly segment: Segment; readonly octet: number }

export interface Host {
  readonly ns: string;
  readonly ip: string;
  readonly iface: string;
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

const nsHost = (ns: string, ip: string, iface: string): Host => ({
  ns, ip, iface,
  exec: (argv, opts) => sh(['ip', 'netns', 'exec', ns, ...argv], opts),
});

/** Builds the lab; every name carries a random id so parallel test files never collide. */
export async function createLab(hosts: readonly HostSpec[]): Promise<Lab> {
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
    const out: Record<string, Host> = {};
    for (const [i, spec] of hosts.entries()) {
      const ns = `tsfw-${id}-${spec.name}`;
      await must(['ip', 'netns', 'add', ns]);
      created.push(ns);
      const { net, gw } = SEGMENTS[spec.segment];
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
      out[spec.name] = nsHost(ns, ip, 'eth0');
    }
    return { ...lab, hosts: out };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/** Starts a TCP listener on each port in the host's namespace (bounded lifetime); answers "hello". */
export async function listen(host: Host, ports: readonly number[], lifetimeMs = 600_000): Promise<() => void> {
  const code = `const net=require('net');for(const p of ${JSON.stringify(ports)}){net.createServer(s=>{s.end('hello\\n')}).listen(p,'0.0.0.0')}setTimeout(()=>process.exit(0),${lifetimeMs});console.log('ready')`;
  const child = execa('ip', ['netns', 'exec', host.ns, process.execPath, '-e', code], { reject: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('listener did not start')), 10_000);
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
