/**
 * Issue 16 item 7 with real packets, once per backend, on the lab's IPv6 (2001:db8:<segment>::/64): IPV6=mirror
 * trusts the local subnet, lets neighbour discovery in (RFC 4890) and counts every IPv6 address of the host as
 * "me"; IPV6=drop-inbound closes what comes in but lets the host's own IPv6 out, where IPV6=drop closes both; a host
 * whose interface has IPv6 only is found by its IPv6 default route and filtered by its addresses.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, FW_AND_NEIGHBOURS, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, connects, isIptables, mustExec, ruleCounter, tsfwOk, useCliCopy, type BackendName } from './helpers.js';

const BASE = 'FAIL2BAN=no\nSERVICES=ssh web\n';
const SECOND6 = '2001:db8:1::50';

const cli = useCliCopy();
const { configs } = cli;

/** The neighbour solicitation accept, as each backend writes it. */
const solicit = (backend: BackendName) => (isIptables(backend) ? ['--icmpv6-type 135 ', 'tsfw:icmp'] : ['icmpv6 type nd-neighbor-solicit ']);

describe.each(BACKENDS)('IPv6 as a first-class family with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'lan' | 'out' | 'friend', Host>;
  let fw6: string;
  const stops: (() => void)[] = [];
  const start = (text: string) => tsfwOk(cli.path, h.fw, backend, ['start'], configs.write(`${BASE}${text}`));
  /** Neighbour entries a closed IPv6 left FAILED would measure their back-off, not the ruleset. */
  const forgetNeighbours = async () => { for (const host of [lab.router, h.fw, h.lan]) await mustExec(host, ['ip', '-6', 'neigh', 'flush', 'all']); };

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS, { ipv6: true });
    h = lab.hosts as typeof h;
    fw6 = h.fw.ip6!;
    stops.push(await listen(h.fw, [22, 23, 80], 600_000, '::'), await listen(h.out, [8080], 600_000, '::'));
  });
  afterAll(async () => { for (const stop of stops) stop(); await lab?.destroy(); });

  test('mirror: the local /64 is trusted, the world gets the services, neighbour discovery gets in', async () => {
    await start('IPV6=mirror\n');
    await forgetNeighbours();
    const before = await ruleCounter(h.fw, backend, solicit(backend), 'ipv6');
    const [lan23, out23, out80] = await Promise.all([connects(h.lan, fw6, 23), connects(h.out, fw6, 23, 1000), connects(h.out, fw6, 80)]);
    expect(lan23).toBe(true);
    expect(out23).toBe(false);
    expect(out80).toBe(true);
    expect(await ruleCounter(h.fw, backend, solicit(backend), 'ipv6')).toBeGreaterThan(before);
  });

  test('mirror: a second IPv6 address answers once reload --if-changed has seen it', async () => {
    const config = configs.write(`${BASE}IPV6=mirror\n`);
    await tsfwOk(cli.path, h.fw, backend, ['start'], config);
    await mustExec(h.fw, ['ip', 'addr', 'add', `${SECOND6}/128`, 'dev', 'eth0', 'nodad']);
    try {
      expect(await connects(h.out, SECOND6, 80, 1000)).toBe(false);
      expect(await tsfwOk(cli.path, h.fw, backend, ['reload', '--if-changed'], config)).toMatch(/^firewall reloaded/m);
      expect(await connects(h.out, SECOND6, 80)).toBe(true);
    } finally {
      await mustExec(h.fw, ['ip', 'addr', 'del', `${SECOND6}/128`, 'dev', 'eth0']);
    }
  });

  test('drop-inbound: nothing comes in, the host\'s own IPv6 goes out; drop closes both', async () => {
    await start('IPV6=drop-inbound\n');
    await forgetNeighbours();
    expect(await connects(h.fw, h.out.ip6!, 8080)).toBe(true);
    expect(await connects(h.out, fw6, 80, 1000)).toBe(false);
    expect(await connects(h.out, '192.0.2.10', 80)).toBe(true);
    await start('IPV6=drop\n');
    expect(await connects(h.fw, h.out.ip6!, 8080, 1000)).toBe(false);
  });

  test('a host with IPv6 only: found by its IPv6 default route, filtered by its own addresses', async () => {
    await mustExec(h.fw, ['ip', 'addr', 'del', '192.0.2.10/24', 'dev', 'eth0']);
    try {
      const said = await start('IPV6=mirror\n');
      expect(said).toMatch(new RegExp(`rules for ${fw6.replace(/:/g, ':')}/64 on eth0`));
      await forgetNeighbours();
      const [out80, out23, lan23] = await Promise.all([connects(h.out, fw6, 80), connects(h.out, fw6, 23, 1000), connects(h.lan, fw6, 23)]);
      expect(out80).toBe(true);
      expect(out23).toBe(false);
      expect(lan23).toBe(true);
    } finally {
      await mustExec(h.fw, ['ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0']);
      await mustExec(h.fw, ['ip', 'route', 'replace', 'default', 'via', '192.0.2.1']);
    }
  });
});
