/**
 * Issue 16 item 3 with real packets, once per backend: OUTPUT_POLICY=drop lets out only what OUTPUT_ALLOW names,
 * in our own chain ending in our drop; replies always pass, so the services answer and a session opened before
 * the reload carries on through it; back to accept, everything leaves again.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, FW_AND_NEIGHBOURS, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, closes, connects, fetchText, isIptables, listenEcho, openSession, ourRules, tsfwOk, useCliCopy } from './helpers.js';

const MYIP = '192.0.2.10';
const BASE = 'FAIL2BAN=no\nSERVICES=ssh web echo\nSERVICE_ECHO_PORTS=2222\nTRUST_LOCAL_SUBNET=no\n';
const EGRESS = 'OUTPUT_POLICY=drop\nOUTPUT_ALLOW=tcp:8080@198.51.100.20 udp:53\n';

const cli = useCliCopy();
const { configs } = cli;

describe.each(BACKENDS)('egress policy with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'lan' | 'out' | 'friend', Host>;
  const stops: (() => void)[] = [];
  const start = (text: string) => tsfwOk(cli.path, h.fw, backend, ['start'], configs.write(`${BASE}${text}`));

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS);
    h = lab.hosts as typeof h;
    stops.push(await listen(h.fw, [22, 80]), await listenEcho(h.fw, 2222), await listen(h.out, [8080, 8081]), await listen(h.lan, [8080]));
  });
  afterAll(async () => { for (const stop of stops) stop(); await lab?.destroy(); });

  test('only OUTPUT_ALLOW leaves: tcp 8080 to the one host named, nothing else', async () => {
    await start(EGRESS);
    const saved = await ourRules(h.fw, backend);
    expect(closes(backend, saved, 'OUTPUT'), saved).toBe(true);
    if (isIptables(backend)) expect(saved).toMatch(/^:OUTPUT ACCEPT/m);
    const [allowed, otherPort, otherHost] = await Promise.all([
      connects(h.fw, h.out.ip, 8080), connects(h.fw, h.out.ip, 8081, 1000), connects(h.fw, h.lan.ip, 8080, 1000),
    ]);
    expect(allowed).toBe(true);
    expect(otherPort).toBe(false);
    expect(otherHost).toBe(false);
  });

  test('replies always pass: the services answer the world, and a session from before the reload carries on', async () => {
    await start('');
    const session = await openSession(h.out, MYIP, 2222);
    try {
      expect(await session.roundTrip('before')).toBe(true);
      await start(EGRESS);
      expect(await session.roundTrip('after', 5000)).toBe(true);
      expect(await fetchText(h.out, MYIP, 80)).toBe('hello');
      expect(await connects(h.out, MYIP, 22)).toBe(true);
    } finally {
      session.close();
    }
  });

  test('OUTPUT_POLICY=accept again: everything leaves', async () => {
    await start('');
    expect(closes(backend, await ourRules(h.fw, backend), 'OUTPUT')).toBe(false);
    expect(await connects(h.fw, h.out.ip, 8081)).toBe(true);
  });
});
