/**
 * The boot-time ruleset (`start --early`), with real packets, once per backend: before the network the
 * host is already closed but for its services and trusted nets, the full `start` then adds the address-bound rules
 * (the local subnet's trust among them) in one atomic swap, a full start that fails for want of an address leaves
 * the boot-time rules in place, and a late --early never downgrades a complete ruleset.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, FW_AND_NEIGHBOURS, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, connects, hasOurRules, holders, isIptables, mustExec, ourRules, spell, tsfw, tsfwOk, useCliCopy } from './helpers.js';

const MYIP = '192.0.2.10';

const cli = useCliCopy();
const { configs } = cli;

describe.each(BACKENDS)('start --early with %s', (backend) => {
  const rules = () => ourRules(h.fw, backend);
  let lab: Lab;
  let h: Record<'fw' | 'lan' | 'out' | 'friend', Host>;
  let stopListening: (() => void) | undefined;
  const config = configs.write('INTERFACE=eth0\nFAIL2BAN=no\nTRUSTED_NETS=203.0.113.0/24\n');
  const run = (args: readonly string[], conf = config) => tsfw(cli.path, h.fw, backend, args, conf);
  const ok = (args: readonly string[], conf = config) => tsfwOk(cli.path, h.fw, backend, args, conf);
  const state = async () => (JSON.parse(await ok(['status', '--json'])) as { state: string }).state;
  /** Port 23 is opened by no service rule: only trust lets it through. Port 80 is the web service, open to all. */
  const reach = async () => {
    const [lan23, friend23, out80, out23] = await Promise.all([
      connects(h.lan, MYIP, 23, 1000), connects(h.friend, MYIP, 23), connects(h.out, MYIP, 80), connects(h.out, MYIP, 23, 1000),
    ]);
    return { lan23, friend23, out80, out23 };
  };

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS);
    h = lab.hosts as typeof h;
    stopListening = await listen(h.fw, [23, 80]);
  });
  afterAll(async () => { stopListening?.(); await lab?.destroy(); });

  test('before the network: services and trusted nets only, marked as the boot-time ruleset; status says early', async () => {
    expect(await ok(['start', '--early'])).toMatch(new RegExp(`^firewall started before the network: \\d+ rules \\(${backend}\\)`));
    const saved = await rules();
    expect(saved).toMatch(spell.bootMarker(backend));
    expect(saved).not.toContain(MYIP);
    expect(await reach()).toEqual({ lan23: false, friend23: true, out80: true, out23: false });
    expect(await state()).toBe('early');
    const status = await run(['status']);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/^tsfirewall: early .*\nboot-time ruleset only: the rules that need the address load with "tsfirewall start"$/m);
  });

  test('a full start that cannot find its address changes nothing: the boot-time rules stay', async () => {
    await mustExec(h.fw, ['ip', 'link', 'add', 'late0', 'type', 'veth', 'peer', 'name', 'late1']);
    try {
      for (const end of ['late0', 'late1']) await mustExec(h.fw, ['ip', 'link', 'set', end, 'up']);
      const before = await rules();
      const r = await run(['start'], configs.write('INTERFACE=late0\nFAIL2BAN=no\nTRUSTED_NETS=203.0.113.0/24\n'));
      expect(r.exitCode).toBe(6);
      expect(r.stderr).toMatch(/interface late0 has no IPv4 address/);
      expect(await rules()).toBe(before);
      expect(await state()).toBe('early');
    } finally {
      await mustExec(h.fw, ['ip', 'link', 'del', 'late0']);
    }
  });

  test('the full start replaces it in one swap: the local subnet is trusted, the marker is gone', async () => {
    expect(await ok(['start'])).toMatch(new RegExp(`^firewall started: \\d+ rules for ${MYIP.replace(/\./g, '\\.')}/24 on eth0`));
    const saved = await rules();
    expect(saved).not.toContain('tsfw-boot');
    expect(saved).toContain(spell.src(backend, MYIP));
    expect(await reach()).toEqual({ lan23: true, friend23: true, out80: true, out23: false });
    expect(await state()).toBe('running');
  });

  test('a late --early leaves the complete ruleset alone', async () => {
    const before = await rules();
    expect(await ok(['start', '--early'])).toBe('firewall already loaded with its full ruleset; --early changes nothing');
    expect(await rules()).toBe(before);
  });

  test('show --early prints the boot-time ruleset and check --early validates it, changing nothing', async () => {
    const before = await rules();
    const shown = await ok(['show', '--early']);
    expect(shown).toMatch(spell.bootMarker(backend));
    expect(shown).not.toContain(MYIP);
    expect(await ok(['check', '--early'])).toMatch(/^config ok/);
    expect(await rules()).toBe(before);
  });

  test('--early goes with start, show and check only (exit 2, nothing changed)', async () => {
    const before = await rules();
    for (const verb of ['reload', 'restart', 'status']) {
      const r = await run([verb, '--early']);
      expect(r.exitCode, verb).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--early goes with start, show, check, not ${verb}`));
    }
    expect(await rules()).toBe(before);
  });

  test('stop opens the host from the boot-time ruleset too', async () => {
    await ok(['stop']);
    await ok(['start', '--early']);
    await ok(['stop']);
    const saved = await rules();
    expect(saved).not.toMatch(/tsfw/);
    expect(hasOurRules(saved)).toBe(false);
    // iptables: the built-in's policy is open (ours never closed it); nftables: our table is gone.
    if (isIptables(backend)) expect(saved).toMatch(/^:INPUT ACCEPT/m);
    expect(await holders(h.fw)).toEqual([]);
    expect((await run(['status'])).exitCode).toBe(3);
  });
});
