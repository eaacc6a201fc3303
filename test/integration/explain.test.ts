/**
 * Issue 17 item 1, property: random packets between lab namespaces (a source among the LAN, a trusted net, the
 * world, a banned host and the firewall host itself; TCP to open, closed and foreign-rejected ports, UDP, ping, a
 * packet of an open session), and for each one `tsfirewall explain --json`'s verdict must be what the kernel then
 * does with it: delivered (the connection opens, the datagram or ping is answered, the line comes back), rejected
 * (the ICMP error arrives) or dropped. A drop is seen by its event, the kernel counting the packet on the rule
 * explain named; a delivery also moves that rule's counter. On every backend; each packet is asked about just
 * before it is sent, so the limiter's counts and the ban set are what the kernel holds then. TSFW_EXPLAIN_RUNS
 * packets per backend (default 30).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, startServer, type Host, type Lab } from '../harness/netns.js';
import { countedBy, startProber, type Command, type Prober } from './explain-kit.js';
import { BACKENDS, isIptables, mustExec, tool, tsfw, tsfwOk, useCliCopy, type BackendName } from './helpers.js';

const MYIP = '192.0.2.10';
const TCP_PORTS = [21, 22, 23, 25, 80, 443, 7, 8080];
const UDP_PORTS = [53, 7, 9];
/** Ports with a session opened before the ban, per source, for ESTABLISHED packets. */
const SESSIONS: Readonly<Record<string, readonly number[]>> = { lan: [22], friend: [80], w1: [22, 80], banned: [22, 80] };
const RUNS = Number(process.env.TSFW_EXPLAIN_RUNS ?? 30);
/** How long a packet may take to be answered or counted on a loaded 2-core machine; only a failure waits it out. */
const CEILING_S = 40;

type Source = 'lan' | 'friend' | 'w1' | 'w2' | 'banned' | 'self';
type Packet = { source: Source } & ({ kind: 'tcp' | 'established'; port: number } | { kind: 'udp'; port: number } | { kind: 'icmp' });

const packet: fc.Arbitrary<Packet> = fc.record({
  source: fc.constantFrom<Source>('lan', 'friend', 'w1', 'w2', 'banned', 'banned', 'w1', 'self'),
  what: fc.oneof(
    fc.record({ kind: fc.constant('tcp' as const), port: fc.constantFrom(...TCP_PORTS) }),
    fc.record({ kind: fc.constant('established' as const), port: fc.constantFrom(22, 80) }),
    fc.record({ kind: fc.constant('udp' as const), port: fc.constantFrom(...UDP_PORTS) }),
    fc.record({ kind: fc.constant('icmp' as const) }),
  ),
}).map(({ source, what }) => ({ source, ...what }) as Packet);

/**
 * Run first, before the random ones: a ban and the limiter drop (the fourth new SSH connection from w2), the
 * policy drops, the foreign rule rejects, trust, a service and a session's reply accept, the banned host's session
 * is cut.
 */
const EXAMPLES: readonly Packet[] = [
  { source: 'banned', kind: 'tcp', port: 22 }, { source: 'w2', kind: 'tcp', port: 22 }, { source: 'w2', kind: 'tcp', port: 22 },
  { source: 'w2', kind: 'tcp', port: 22 }, { source: 'w2', kind: 'tcp', port: 22 }, { source: 'w1', kind: 'tcp', port: 23 },
  { source: 'w1', kind: 'icmp' }, { source: 'w2', kind: 'udp', port: 7 }, { source: 'friend', kind: 'tcp', port: 7 },
  { source: 'lan', kind: 'tcp', port: 25 }, { source: 'w1', kind: 'established', port: 80 }, { source: 'banned', kind: 'established', port: 22 },
];

/** TCP echo on every probed port and UDP echo on the UDP ones: whatever the firewall lets in is answered. */
const ECHO = `const net=require('net'),dgram=require('dgram');let n=0;const t=${JSON.stringify(TCP_PORTS)},u=${JSON.stringify(UDP_PORTS)};
const up=()=>{if(++n===t.length+u.length)console.log('ready')};
for(const p of t)net.createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(p,'0.0.0.0',up);
for(const p of u){const d=dgram.createSocket('udp4');d.on('message',(m,r)=>d.send(m,r.port,r.address));d.bind(p,'0.0.0.0',up)}
setTimeout(()=>process.exit(0),1500000)`;

/** Another tool's rules that reject port 7 (TCP and UDP) before ours: for iptables in INPUT, for nft its own table. */
async function foreignReject(fw: Host, backend: BackendName): Promise<void> {
  if (isIptables(backend)) {
    for (const proto of ['udp', 'tcp']) await mustExec(fw, [tool(backend, 'ipv4'), '-w', '5', '-I', 'INPUT', '1', '-p', proto, '--dport', '7', '-j', 'REJECT']);
    return;
  }
  const doc = 'table inet foreign {\n  chain input { type filter hook input priority -10; policy accept; tcp dport 7 counter reject; udp dport 7 counter reject; }\n}\n';
  const r = await fw.exec(['nft', '-f', '-'], { input: doc, timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`foreign table: ${r.stderr}`);
}

const cli = useCliCopy();

interface Answer { verdict: 'accept' | 'drop' | 'reject'; rule: string; chain: string | null; group: string | null; certain: boolean;
  ban: { jail?: string; in: string; expiresIn?: number } | null; path: { chain: string; outcome: string }[] }

describe.each(BACKENDS)('explain against the kernel on %s', (backend) => {
  let lab: Lab;
  let hosts: Record<Exclude<Source, 'self'> | 'fw', Host>;
  const probers = new Map<Source, Prober>();
  const stops: (() => void)[] = [];
  // iptables-legacy keeps the seed's ban chain, iptables-nft an ipset; nftables' bans are always a set of its table.
  const banMode = backend === 'iptables-legacy' ? 'chain' : 'ipset';
  const config = cli.configs.write(['TRUSTED_NETS=203.0.113.0/24', 'SERVICES="ssh ftp web dns"', 'SERVICE_SSH_RATE_LIMIT=3/3600',
    'FAIL2BAN=no', `BAN_MODE=${banMode}`, ''].join('\n'));
  const run = (args: string[]) => tsfw(cli.path, hosts.fw, backend, args, config);

  beforeAll(async () => {
    lab = await createLab([
      { name: 'fw', segment: 'lan', octet: 10 }, { name: 'lan', segment: 'lan', octet: 20 }, { name: 'friend', segment: 'friends', octet: 20 },
      { name: 'w1', segment: 'wan', octet: 31 }, { name: 'w2', segment: 'wan', octet: 32 }, { name: 'banned', segment: 'wan', octet: 66 },
    ]);
    hosts = lab.hosts as typeof hosts;
    stops.push(await startServer(hosts.fw, ECHO, 'echo servers'));
  }, 120_000);
  afterAll(async () => {
    for (const p of probers.values()) p.close();
    for (const stop of stops) stop();
    await lab?.destroy();
  });

  test('before start: exit 3, nothing of ours decides packets; a bad option exits 2 naming it', async () => {
    const stopped = await run(['explain', '--src', '198.51.100.31', '--proto', 'tcp', '--dport', '22']);
    expect(stopped.exitCode, stopped.stderr).toBe(3);
    expect(stopped.stderr).toMatch(/the firewall is not loaded/);
    const bad = await run(['explain', '--src', '198.51.100.31', '--proto', 'gre']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--proto expects tcp, udp or icmp, got "gre"/);
  });

  test('a banned host: the jail and the time left', async () => {
    await tsfwOk(cli.path, hosts.fw, backend, ['start'], config);
    await foreignReject(hosts.fw, backend);
    for (const source of ['lan', 'friend', 'w1', 'w2', 'banned'] as const) probers.set(source, await startProber(hosts[source]));
    probers.set('self', await startProber(hosts.fw));
    // Sessions first: the banned host's outlive its ban as connections, but not as traffic.
    for (const [source, ports] of Object.entries(SESSIONS)) {
      const p = probers.get(source as Source)!;
      for (const port of ports) {
        const id = p.send({ op: 'open', dst: MYIP, port });
        expect(await p.await(id, CEILING_S), `${source} session to ${port}`).toMatchObject({ r: 'open' });
        p.sessions.add(port);
      }
    }
    await tsfwOk(cli.path, hosts.fw, backend, ['ban', hosts.banned.ip], config);
    const a = JSON.parse(await tsfwOk(cli.path, hosts.fw, backend, ['explain', '--json', '--src', hosts.banned.ip, '--proto', 'tcp', '--dport', '22'], config)) as Answer;
    expect(a).toMatchObject({ verdict: 'drop', certain: true, ban: { jail: 'tsfw-ssh' } });
    expect(a.ban!.expiresIn).toBeGreaterThan(0);
    expect(a.ban!.expiresIn).toBeLessThanOrEqual(600);
    const text = await tsfwOk(cli.path, hosts.fw, backend, ['explain', '--src', hosts.banned.ip, '--proto', 'tcp', '--dport', '22'], config);
    expect(text).toMatch(/^DROP: 198\.51\.100\.66 -> 192\.0\.2\.10 tcp port 22 \(new\)/);
    expect(text).toMatch(/\nbanned: jail tsfw-ssh \((set f2b-SSH|chain fail2ban-SSH)\), (\d+[dhms])+ left\n/);
  }, 300_000);

  test(`${EXAMPLES.length} chosen and ${RUNS} random packets: explain's verdict is what the kernel does`, async () => {
    expect(probers.size, 'the ban test set the lab up').toBe(6);
    const src = (s: Source) => (s === 'self' ? MYIP : hosts[s].ip);
    let line = 0;
    const seen = new Map<string, number>();
    await fc.assert(fc.asyncProperty(packet, async (p) => {
      const prober = probers.get(p.source)!;
      const port = p.kind === 'icmp' ? 0 : p.port;
      // A packet of a session needs one: without it (or from the host itself) it is the port's new connection.
      const kind = p.kind === 'established' && !prober.sessions.has(port) ? 'tcp' : p.kind;
      const proto = kind === 'icmp' ? 'icmp' : kind === 'udp' ? 'udp' : 'tcp';
      const args = ['explain', '--json', '--src', src(p.source), '--dst', MYIP, '--proto', proto,
        ...(kind === 'icmp' ? [] : ['--dport', String(port)]), ...(kind === 'established' ? ['--state', 'established'] : [])];
      const said = await run(args);
      const what = `${args.slice(2).join(' ')}`;
      expect(said.exitCode, `${what}: ${said.stderr}`).toBe(0);
      const a = JSON.parse(said.stdout) as Answer;
      expect(a.certain, `${what}: ${said.stdout}`).toBe(true);
      expect(a.path.length, what).toBeGreaterThan(0);
      const counted = () => (a.chain === null || a.rule.startsWith('policy ') ? Promise.resolve(0) : countedBy(hosts.fw, backend, 'ipv4', a.chain, a.rule));
      const before = await counted();
      const cmd: Command = kind === 'icmp' ? { op: 'ping', dst: MYIP } : kind === 'udp' ? { op: 'udp', dst: MYIP, port }
        : kind === 'established' ? { op: 'send', port, line: `line-${++line}` } : { op: 'tcp', dst: MYIP, port };
      const id = prober.send(cmd);
      // The kernel's answer: the reply for a delivery or a rejection, the rule's counter for a drop; whichever comes.
      let kernel: string | undefined;
      for (const deadline = Date.now() + CEILING_S * 1000; kernel === undefined && Date.now() < deadline;) {
        const reply = await prober.await(id, 0.25);
        if (reply) kernel = reply.r === 'open' ? 'accept' : reply.r === 'refused' ? 'reject' : `error ${reply.e}`;
        else if (a.verdict === 'drop' && (await counted()) > before) kernel = 'drop';
      }
      if (prober.reply(id) === undefined) await prober.cancel(id);
      if (kind === 'established' && kernel !== 'accept') prober.sessions.delete(port);
      expect(kernel ?? `no answer and ${a.rule} did not count it in ${CEILING_S} s`, `${what}: explain said ${a.verdict} by "${a.rule}" in ${a.chain}`).toBe(a.verdict);
      if (a.verdict !== 'drop') expect(await counted(), `${what}: "${a.rule}" counted it`).toBeGreaterThan(before);
      const key = `${a.verdict} ${a.ban ? 'bans' : a.group ?? 'foreign'}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }), { numRuns: EXAMPLES.length + RUNS, endOnFailure: true, examples: EXAMPLES.map((e) => [e]) });
    // The examples make sure every kind of verdict was met whatever the random part drew.
    const kinds = [...seen.keys()].join(', ');
    for (const want of ['accept friends', 'accept services', 'accept replies', 'drop bans', 'drop services', 'drop policy', 'reject foreign']) {
      expect(kinds, `verdicts met: ${kinds}`).toContain(want);
    }
  }, 1_800_000);
});
