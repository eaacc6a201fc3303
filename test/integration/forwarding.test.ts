/**
 * Issue 16 item 2 with real packets, once per backend. fw (192.0.2.10 on the LAN segment) routes for `inner`
 * (192.0.2.254, its own link behind fw's eth1), and the lab router routes that link through fw, so the world
 * (`out`, 198.51.100.20) reaches inner both through a port forward on fw's address and, where routes allow, directly.
 * Port forwarding from the world to inner and its refusal from a region not allowed; routes closing forwarding in
 * our own chain (replies still pass, the port forward still works); masquerade.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, FW_AND_NEIGHBOURS, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, closes, connects, fetchText, isIptables, listenPeer, mustExec, ourRules, tsfwOk, useCliCopy } from './helpers.js';

const MYIP = '192.0.2.10';
const INNER = '192.0.2.254';
const BASE = 'FAIL2BAN=no\nSERVICES=ssh\n';
const FORWARD = 'FORWARD_WEB=tcp:8080->192.0.2.254:80\nFORWARD_WEB_FROM=198.51.100.0/24\n';

const cli = useCliCopy();
const { configs } = cli;

describe.each(BACKENDS)('port forwarding and routed traffic with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'lan' | 'out' | 'friend' | 'inner', Host>;
  const stops: (() => void)[] = [];
  const start = (text: string) => tsfwOk(cli.path, h.fw, backend, ['start'], configs.write(`${BASE}${text}`));

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS, { behind: [{ name: 'inner', via: 'fw', ip: INNER, gwIp: '192.0.2.253', prefix: 30 }] });
    h = lab.hosts as typeof h;
    await mustExec(lab.router, ['ip', 'route', 'add', '192.0.2.252/30', 'via', MYIP]);
    // Each answers with the address the connection came from: who is seen tells whether NAT happened.
    stops.push(await listenPeer(h.inner, 80), await listen(h.inner, [23]), await listenPeer(h.out, 8080));
  });
  afterAll(async () => { for (const stop of stops) stop(); await lab?.destroy(); });

  test('FORWARD_WEB: the world reaches inner through fw\'s port 8080, as itself; a region not allowed does not', async () => {
    await start(FORWARD);
    expect(await ourRules(h.fw, backend)).toMatch(isIptables(backend)
      ? /^-A tsfw-prerouting -s 198\.51\.100\.0\/24 -d 192\.0\.2\.10\/32 -p tcp -m tcp --dport 8080 .*-j DNAT --to-destination 192\.0\.2\.254:80$/m
      : /^\t\tip saddr 198\.51\.100\.0\/24 ip daddr 192\.0\.2\.10 tcp dport 8080 counter dnat ip to 192\.0\.2\.254:80 comment "tsfw:forwards"$/m);
    expect(await fetchText(h.out, MYIP, 8080)).toBe(h.out.ip);
    expect(await fetchText(h.friend, MYIP, 8080, 1500)).toBeUndefined();
    // Forwards alone leave forwarding open, as the seed does.
    expect(closes(backend, await ourRules(h.fw, backend), 'FORWARD')).toBe(false);
  });

  test('a route closes forwarding in our own chain: only what routes allow passes, replies come back', async () => {
    await start('ROUTE_WEB_FROM=any\nROUTE_WEB_TO=192.0.2.254\nROUTE_WEB_PORTS=80\n');
    const saved = await ourRules(h.fw, backend);
    expect(closes(backend, saved, 'FORWARD'), saved).toBe(true);
    // The built-in FORWARD policy is never ours to set.
    if (isIptables(backend)) expect(saved).toMatch(/^:FORWARD ACCEPT/m);
    expect(await fetchText(h.out, INNER, 80)).toBe(h.out.ip);
    expect(await connects(h.out, INNER, 23, 1000)).toBe(false);
    expect(await fetchText(h.inner, h.out.ip, 8080, 1500)).toBeUndefined();
  });

  test('a second route lets inner out by eth1; with routes closing forwarding the port forward still works', async () => {
    await start(`${FORWARD}ROUTE_WEB_FROM=any\nROUTE_WEB_TO=192.0.2.254\nROUTE_WEB_PORTS=80\nROUTE_OUT_FROM=eth1\nROUTE_OUT_TO=any\n`);
    expect(await fetchText(h.inner, h.out.ip, 8080)).toBe(INNER);
    expect(await fetchText(h.out, MYIP, 8080)).toBe(h.out.ip);
    expect(await fetchText(h.friend, MYIP, 8080, 1500)).toBeUndefined();
    expect(await connects(h.out, INNER, 23, 1000)).toBe(false);
  });

  test('SNAT_TO=masquerade: inner\'s traffic leaves eth0 with the interface\'s own address', async () => {
    await start('SNAT_INTERFACE=eth0\nSNAT_TO=masquerade\n');
    expect(await ourRules(h.fw, backend)).toMatch(isIptables(backend) ? /^-A tsfw-postrouting -o eth0 .*-j MASQUERADE$/m : /^\t\toifname "eth0" counter masquerade comment "tsfw:nat"$/m);
    expect(await fetchText(h.inner, h.out.ip, 8080)).toBe(MYIP);
  });
});
