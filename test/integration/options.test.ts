/**
 * Issue 2's configurable parts with real packets: SMTP opened to one subnet only, SNAT of forwarded traffic to
 * MYIP, logging what the policy drops, and IPv6 dropped or mirrored (2001:db8::/32 documentation addresses), once per
 * backend.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, FW_AND_NEIGHBOURS, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, closes, connects, fetchText, hasOurRules, isIptables, listenPeer, mustExec, ourRules, ruleCounter, spell, tool, tsfw, useCliCopy } from './helpers.js';

const MYIP = '192.0.2.10';

const cli = useCliCopy();
const { configs } = cli;

describe.each(BACKENDS)('configured options with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'lan' | 'out' | 'friend' | 'inner', Host>;
  const stops: (() => void)[] = [];
  const start = async (configText: string) => {
    const r = await tsfw(cli.path, h.fw, backend, ['start'], configs.write(configText));
    expect(r.exitCode, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS, {
      ipv6: true,
      // A /30 carved from the LAN's TEST-NET range: fw is the inner host's gateway, and its SNAT hides the inner
      // address (the router would have no way back to it).
      behind: [{ name: 'inner', via: 'fw', ip: '192.0.2.254', gwIp: '192.0.2.253', prefix: 30 }],
    });
    h = lab.hosts as typeof h;
    stops.push(await listen(h.fw, [22, 23, 25, 80], 600_000, '::'));
    stops.push(await listenPeer(h.out, 8080));
  });
  afterAll(async () => { for (const stop of stops) stop(); await lab?.destroy(); });

  test('SMTP is closed by default, even to a subnet that is not trusted', async () => {
    await start('');
    const [friend25, out25, friend80] = await Promise.all([
      connects(h.friend, MYIP, 25, 1000), connects(h.out, MYIP, 25, 1000), connects(h.friend, MYIP, 80),
    ]);
    expect(friend25).toBe(false);
    expect(out25).toBe(false);
    expect(friend80).toBe(true);
  });

  test('SERVICE_SMTP_FROM opens 25 to that subnet only', async () => {
    await start('SERVICES=ssh ftp web smtp\nSERVICE_SMTP_FROM=203.0.113.0/24\n');
    const [friend25, out25, friend23] = await Promise.all([
      connects(h.friend, MYIP, 25), connects(h.out, MYIP, 25, 1000), connects(h.friend, MYIP, 23, 1000),
    ]);
    expect(friend25).toBe(true);
    expect(out25).toBe(false);
    expect(friend23).toBe(false);
  });

  test('SNAT_INTERFACE: traffic forwarded through fw leaves with MYIP as its source', async () => {
    await start('SNAT_INTERFACE=eth0\n');
    expect(await ourRules(h.fw, backend)).toMatch(isIptables(backend)
      ? /^-A tsfw-postrouting -o eth0 .*tsfw:nat.* -j SNAT --to-source 192\.0\.2\.10$/m
      : /^\t\toifname "eth0" counter snat ip to 192\.0\.2\.10 comment "tsfw:nat"$/m);
    expect(await fetchText(h.inner, h.out.ip, 8080)).toBe(MYIP);
    // Without SNAT nothing of ours is left on the nat hook (iptables: the nat table is left open and empty;
    // nftables: the srcnat chains go), and the inner address is no longer hidden.
    await start('');
    if (isIptables(backend)) expect(hasOurRules(await mustExec(h.fw, [tool(backend, 'ipv4', '-save'), '-t', 'nat']))).toBe(false);
    else expect(await ourRules(h.fw, backend)).not.toMatch(/chain srcnat|type nat hook|snat/);
    expect(await fetchText(h.inner, h.out.ip, 8080, 1000)).toBeUndefined();
  });

  test('LOG_DROPPED: what the policy drops reaches the LOG rule, at most a burst of 10; accepted traffic never', async () => {
    await start('LOG_DROPPED=yes\nIPV6=drop\n');
    const logged = (family: 'ipv4' | 'ipv6' = 'ipv4') => ruleCounter(h.fw, backend, ['tsfw:dropped'], family);
    const before = await logged();
    expect(await connects(h.out, MYIP, 80)).toBe(true);
    expect(await logged()).toBe(before);
    // 20 SYNs to a closed port inside a second: xt_limit lets the first 10 through to LOG, then 3 a minute.
    const closed = await Promise.all(Array.from({ length: 20 }, () => connects(h.out, MYIP, 23, 300)));
    expect(closed.every((ok) => !ok)).toBe(true);
    const burst = (await logged()) - before;
    expect(burst).toBeGreaterThanOrEqual(1);
    expect(burst).toBeLessThanOrEqual(11);
    expect(await connects(h.out, h.fw.ip6!, 80, 300)).toBe(false);
    expect(await logged('ipv6')).toBeGreaterThanOrEqual(1);
    expect((await tsfw(cli.path, h.fw, backend, ['status'])).stdout).toContain('-- log of what the policy drops');
  });

  test('IPV6=drop: ip6tables drops everything but loopback', async () => {
    await start('IPV6=drop\n');
    const saved = await ourRules(h.fw, backend, 'ipv6');
    expect(['INPUT', 'OUTPUT', 'FORWARD'].every((chain) => closes(backend, saved, chain, 'ipv6')), saved).toBe(true);
    expect(saved).toContain('tsfw:loopback');
    expect(saved).not.toContain('tsfw:services');
    expect(await connects(h.out, h.fw.ip6!, 80, 1000)).toBe(false);
    expect(await connects(h.out, MYIP, 80)).toBe(true);
  });

  test('IPV6=mirror: the service rules are mirrored for IPv6 and a service connects over IPv6', async () => {
    await start('IPV6=mirror\n');
    const saved = await ourRules(h.fw, backend, 'ipv6');
    expect(closes(backend, saved, 'INPUT', 'ipv6'), saved).toBe(true);
    // OUTPUT is left open for IPv6 as for IPv4: the built-in's policy, or our output6 ending in accept.
    expect(saved).toMatch(isIptables(backend) ? /^:OUTPUT ACCEPT/m : /^\tchain output6 \{\n\t\tcounter accept comment "tsfw:policy"\n\t\}$/m);
    expect(closes(backend, saved, 'OUTPUT', 'ipv6')).toBe(false);
    expect(saved).toContain('tsfw:services');
    expect(saved).toContain(isIptables(backend)
      ? `-s ${h.fw.ip6}/128 -m comment --comment "tsfw:antispoof" -j DROP`
      : `${spell.src(backend, h.fw.ip6!)} counter drop comment "tsfw:antispoof"`);
    // IPV6=drop dropped neighbour discovery too, leaving FAILED neighbour entries whose back-off would be measured
    // instead of the ruleset; forget them.
    for (const host of [lab.router, h.fw]) await mustExec(host, ['ip', '-6', 'neigh', 'flush', 'all']);
    const [web, telnet, lanTelnet] = await Promise.all([
      connects(h.out, h.fw.ip6!, 80), connects(h.out, h.fw.ip6!, 23, 1000), connects(h.lan, h.fw.ip6!, 23),
    ]);
    expect(web).toBe(true);
    expect(telnet).toBe(false);
    // The IPv6 local subnet (the interface's /64) is trusted as IPv4's is (issue 16 item 7).
    expect(lanTelnet).toBe(true);
  });
});
