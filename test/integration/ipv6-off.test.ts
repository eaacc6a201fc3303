/**
 * Issue 14, item 9: IPV6=off after drop or mirror. stop used to look at IPv4 only and leave ip6tables closed with
 * our rules in it while saying "all policies ACCEPT", and status said "stopped" (exit 3) from IPv4 alone. Now stop
 * removes what was loaded in every family whatever the config says now, and status looks at every family.
 */
import { describe, expect, test } from 'vitest';
import type { Host } from '../harness/netns.js';
import { BACKENDS, hasOurRules, holders, isIptables, ourRules, tsfw, useCliCopy, useLoneFirewall } from './helpers.js';

const cli = useCliCopy();
const { configs } = cli;

describe.each(BACKENDS)('IPV6=off after drop with %s', (backend) => {
  let fw: Host;
  useLoneFirewall((host) => { fw = host; });

  test('status sees the IPv6 rules an earlier config loaded, and stop removes them', async () => {
    expect((await tsfw(cli.path, fw, backend, ['start'], configs.write('FAIL2BAN=no\nIPV6=drop\n'))).exitCode).toBe(0);
    const off = configs.write('FAIL2BAN=no\nIPV6=off\n');
    // The config no longer mentions IPv6, but the kernel still filters it: status shows that family too.
    const status = await tsfw(cli.path, fw, backend, ['status', '--json'], off);
    expect(status.exitCode).toBe(0);
    const families = (JSON.parse(status.stdout) as { families: Record<string, { rules: { group?: string }[] }> }).families;
    expect(families.ipv6?.rules.some((r) => r.group === 'loopback')).toBe(true);
    expect(hasOurRules(await ourRules(fw, backend, 'ipv6'))).toBe(true);
    const stop = await tsfw(cli.path, fw, backend, ['stop'], off);
    expect(stop.exitCode, stop.stderr).toBe(0);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const saved = await ourRules(fw, backend, family);
      expect(hasOurRules(saved), `${family}:\n${saved}`).toBe(false);
      if (isIptables(backend)) expect(saved).not.toMatch(/^:(INPUT|FORWARD|OUTPUT) DROP/m);
    }
    expect(await holders(fw)).toEqual([]);
    expect((await tsfw(cli.path, fw, backend, ['status'], off)).exitCode).toBe(3);
  });
});
