/**
 * A host still running the ruleset of a tsfirewall from before it owned only its own chains (every rule in INPUT,
 * policies DROP: test/fixtures/old-layout, the render golden files of that release) moves over on the next reload:
 * in one transaction per family its rules and policies are taken over, our chains come in, the chain-mode ban it
 * held is kept, and a rule another tool added meanwhile is left where it was. stop then leaves nothing of ours.
 * iptables only: the old layout was iptables rules (there was no nftables backend before it); moving an iptables
 * host to nftables is switch.test.ts's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Host } from '../harness/netns.js';
import { closes, IPTABLES_BACKENDS, mustExec, savedRules, tool, tsfw, useCliCopy, useLoneFirewall } from './helpers.js';
import { kernelState, runCli, useScratch } from './safety-kit.js';

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();
const OLD = (family: string) => readFileSync(new URL(`../fixtures/old-layout/default-chain.${family}.rules`, import.meta.url), 'utf8');
const BANNED = '198.51.100.77';
/** A rule someone else put in the old INPUT, unmarked: ours to leave alone. */
const FOREIGN = ['-A', 'INPUT', '-s', '203.0.113.5/32', '-p', 'tcp', '--dport', '8080', '-j', 'ACCEPT'];

describe.each(IPTABLES_BACKENDS)('moving the old layout over with %s', (backend) => {
  let fw: Host;
  useLoneFirewall((host) => { fw = host; });

  test('reload takes the old rules and policies over, keeps the ban and the foreign rule; stop leaves nothing of ours', async () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const r = await fw.exec([tool(backend, family, '-restore'), '-w', '5'], { input: OLD(family), timeoutMs: 30_000 });
      expect(r.exitCode, r.stderr).toBe(0);
    }
    await mustExec(fw, [tool(backend, 'ipv4'), '-w', '5', '-A', 'fail2ban-SSH', '-s', `${BANNED}/32`, '-j', 'DROP']);
    await mustExec(fw, [tool(backend, 'ipv4'), '-w', '5', ...FOREIGN]);
    const config = configs.write('FAIL2BAN=no\nBAN_MODE=chain\n');
    // Interrupted once both families are loaded: the old layout comes back whole, policies and all.
    const before = await kernelState(fw, backend);
    const interrupted = await runCli(cli.path, fw, scratch, ['reload'], { backend, config, env: { TSFIREWALL_FAULT: 'after-ipv6:term' } });
    expect(interrupted.exitCode, interrupted.stderr).toBe(1);
    expect(interrupted.stderr).toMatch(/interrupted by SIGTERM; the previous ruleset was restored/);
    expect(await kernelState(fw, backend)).toBe(before);
    const r = await tsfw(cli.path, fw, backend, ['reload'], config);
    expect(r.exitCode, r.stderr).toBe(0);

    const v4 = await savedRules(fw, backend, 'ipv4');
    expect(v4).toMatch(/^:INPUT ACCEPT/m);
    expect(closes(backend, v4), v4).toBe(true);
    expect(v4.split('\n').filter((l) => l.startsWith('-A INPUT ') && l.includes('tsfw:') && !l.includes('tsfw:jump'))).toEqual([]);
    expect(v4).toContain(`-A fail2ban-SSH -s ${BANNED}/32 -j DROP`);
    expect(v4).toContain('-A INPUT -s 203.0.113.5/32 -p tcp -m tcp --dport 8080 -j ACCEPT');
    const v6 = await savedRules(fw, backend, 'ipv6');
    expect(v6).toMatch(/^:INPUT ACCEPT/m);
    expect(v6).toMatch(/^:OUTPUT ACCEPT/m);
    expect(['INPUT', 'OUTPUT', 'FORWARD'].every((chain) => closes(backend, v6, chain)), v6).toBe(true);
    expect((await tsfw(cli.path, fw, backend, ['status'], config)).exitCode).toBe(0);

    expect((await tsfw(cli.path, fw, backend, ['stop'], config)).exitCode).toBe(0);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const after = await savedRules(fw, backend, family);
      expect(after, family).not.toMatch(/tsfw|fail2ban-SSH|DROP/);
    }
    expect(await savedRules(fw, backend, 'ipv4')).toContain('-A INPUT -s 203.0.113.5/32 -p tcp -m tcp --dport 8080 -j ACCEPT');
  });
});
