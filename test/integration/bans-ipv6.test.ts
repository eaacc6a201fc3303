/**
 * IPv6 bans with real packets (the fail2ban container test has no IPv6: docker's internal network is IPv4 only):
 * with IPV6=mirror, `ban` of an IPv6 address lands in the IPv6 set (f2b6-NAME: an ipset, or a set of our nft table,
 * where chain mode's bans live too) or the ip6tables chain, drops that host's IPv6 connections and nothing else,
 * survives reload, and `unban` lets it back. Per backend and ban mode;
 * fail2ban is off, so the ban goes straight into the kernel as it does when the daemon is down or the batch large.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, banListing, connects, isIptables, kernelBans, tsfw, tsfwOk, useCliCopy } from './helpers.js';

const cli = useCliCopy();
const { configs } = cli;
const MODES = ['ipset', 'chain'] as const;

describe.each(BACKENDS)('IPv6 bans with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'out' | 'lan', Host>;
  let stopListening: (() => void) | undefined;
  const run = (args: readonly string[], config: string) => tsfw(cli.path, h.fw, backend, args, config);
  const ok = (args: readonly string[], config: string) => tsfwOk(cli.path, h.fw, backend, args, config);
  const bannedV6 = async (config: string) =>
    (JSON.parse(await ok(['bans', '--json'], config)) as { jails: { addresses: string[] }[] }).jails[0]!.addresses;

  beforeAll(async () => {
    lab = await createLab([
      { name: 'fw', segment: 'lan', octet: 10 },
      { name: 'out', segment: 'wan', octet: 30 },
      { name: 'lan', segment: 'lan', octet: 30 },
    ], { ipv6: true });
    h = lab.hosts as typeof h;
    stopListening = await listen(h.fw, [22], 600_000, '::');
  });
  afterAll(async () => { stopListening?.(); await lab?.destroy(); });

  test.each(MODES)('BAN_MODE=%s: an IPv6 ban drops that host over IPv6 only, survives reload, and unban lifts it', async (mode) => {
    const config = configs.write(`FAIL2BAN=no\nBAN_MODE=${mode}\nIPV6=mirror\nSERVICES=ssh\n`);
    await ok(['start'], config);
    // Each mode's connections count in the SSH hit-rate table (3 per 180 s): start from an empty one.
    await ok(['recent', 'clear', 'SSH'], config);
    const attacker = h.out.ip6!;
    expect(await connects(h.out, h.fw.ip6!, 22)).toBe(true);

    expect(await ok(['ban', attacker], config)).toMatch(/banned 1 address in tsfw-ssh \(1 new kernel entries/);
    const kernel = await banListing(h.fw, backend, 'ipv6', mode);
    const kernelV4 = await banListing(h.fw, backend, 'ipv4', mode);
    expect(kernel).toContain(attacker);
    expect(kernelV4).not.toContain(attacker);
    expect(await bannedV6(config)).toEqual([attacker]);
    // A direct ban expires after the jail's ban time (600 s), a set entry by its timeout, a chain rule by its
    // recorded expiry (bans/expiry.ts), and bans says how long it has left.
    const listed = JSON.parse(await ok(['bans', '--json'], config)) as { jails: { expiresIn: Record<string, number> }[] };
    expect(listed.jails[0]!.expiresIn[attacker]).toBeGreaterThan(590);
    expect(listed.jails[0]!.expiresIn[attacker]).toBeLessThanOrEqual(600);
    expect(await ok(['bans'], config)).toMatch(new RegExp(`^  ${attacker}  \\(9m\\d+s left\\)$`, 'm'));

    expect(await connects(h.out, h.fw.ip6!, 22, 1000)).toBe(false);
    // The same host over IPv4 and another IPv6 host are not touched by it.
    const [v4, neighbour] = await Promise.all([connects(h.out, h.fw.ip, 22), connects(h.lan, h.fw.ip6!, 22)]);
    expect(v4).toBe(true);
    expect(neighbour).toBe(true);

    await ok(['reload'], config);
    expect(await bannedV6(config)).toEqual([attacker]);
    expect(await connects(h.out, h.fw.ip6!, 22, 1000)).toBe(false);

    await ok(['unban', attacker], config);
    expect(await bannedV6(config)).toEqual([]);
    expect(await connects(h.out, h.fw.ip6!, 22)).toBe(true);
    await ok(['stop'], config);
  });

  test('IPV6=drop has no IPv6 ban list: banning an IPv6 address says so and changes nothing', async () => {
    const config = configs.write('FAIL2BAN=no\nBAN_MODE=ipset\nIPV6=drop\nSERVICES=ssh\n');
    await ok(['start'], config);
    const before = await kernelBans(h.fw, backend);
    const r = await run(['ban', h.out.ip6!], config);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is IPv6, but IPV6=drop has no IPv6 ban set \(use IPV6=mirror\)/);
    expect(await kernelBans(h.fw, backend)).toBe(before);
    await ok(['stop'], config);
  });
});
