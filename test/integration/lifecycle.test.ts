/**
 * Issue 2's init-script verbs against the kernel, once per backend: refusing to apply anything on a missing config
 * or interface, check and show touching nothing, status exit codes, reload/restart keeping the ruleset and the ban
 * entries (chain and ipset mode; on nftables both are elements of the ban set), and stop opening the host.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { addBan, BACKENDS, banListing, bothFamilies, connects, hasOurRules, holders, isIptables, listenEcho, mustExec, nftTable, openSession, ourRules, tool, tsfw, useCliCopy, type BackendName, type Family } from './helpers.js';

const MYIP = '192.0.2.10';
const BANNED = '198.51.100.99';

const cli = useCliCopy();
const { configs } = cli;

/** What `show` prints for the chain-mode default: iptables-restore text per family, or the one nft document. */
const SHOWN: Readonly<Record<'iptables' | 'nftables', readonly RegExp[]>> = {
  iptables: [
    /^\*filter$/m, /^-I INPUT 1 -m comment --comment tsfw:jump -j tsfw-input$/m, /^-A tsfw-input -m comment --comment tsfw:policy -j DROP$/m,
    /^:fail2ban-SSH - \[0:0\]$/m, /^-A tsfw-input -i lo -m comment --comment tsfw:loopback -j ACCEPT$/m, /^COMMIT$/m,
  ],
  nftables: [
    /^# nft -f -$/m, /^table inet tsfirewall \{$/m, /^add rule inet tsfirewall input meta nfproto vmap \{ ipv4 : jump input4, ipv6 : jump input6 \}$/m,
    /^add rule inet tsfirewall input4 counter drop comment "tsfw:policy"$/m, /^\tset f2b-SSH \{$/m, /^add rule inet tsfirewall input4 iifname "lo" counter accept comment "tsfw:loopback"$/m,
    // Chain mode's ban chain is a lookup in the same set on nftables.
    /^add rule inet tsfirewall input4 tcp dport 22 ip saddr @f2b-SSH counter drop comment "tsfw:bans:ssh"$/m,
  ],
};
const kind = (backend: BackendName) => (isIptables(backend) ? 'iptables' : 'nftables');

/** Nothing of ours left in any family, nor the ban sets: iptables' chains, policies and ipsets, or our nft table. */
async function nothingOfOurs(host: Host, backend: BackendName, tables: readonly (readonly [Family, string])[] = [['ipv4', 'filter'], ['ipv6', 'filter']]) {
  if (isIptables(backend)) {
    for (const [family, table] of tables) {
      const rules = await mustExec(host, [tool(backend, family), '-t', table, '-S']);
      expect(rules, `${family} ${table}`).not.toMatch(/tsfw|^-P \S+ DROP|^-N |^-A /m);
      if (table === 'filter') for (const chain of ['INPUT', 'FORWARD', 'OUTPUT']) expect(rules, family).toContain(`-P ${chain} ACCEPT`);
    }
    expect(await mustExec(host, ['ipset', 'list', '-n'])).not.toMatch(/f2b/);
  } else {
    expect(await nftTable(host)).toBe('');
  }
  expect(await holders(host)).toEqual([]);
}

describe.each(BACKENDS)('lifecycle with %s', (backend) => {
  let lab: Lab;
  let h: Record<'fw' | 'out' | 'banned', Host>;
  const stops: (() => void)[] = [];
  const run = (args: string[], config?: string) => tsfw(cli.path, h.fw, backend, args, config);
  const both = () => bothFamilies(h.fw, backend);
  const state = async (config?: string) => (JSON.parse((await run(['status', '--json'], config)).stdout) as { state: string; backend: string }).state;
  const chainConfig = configs.write('BAN_MODE=chain\n');
  const ipsetConfig = configs.write('BAN_MODE=ipset\n');

  beforeAll(async () => {
    lab = await createLab([
      { name: 'fw', segment: 'lan', octet: 10 },
      { name: 'out', segment: 'wan', octet: 20 },
      { name: 'banned', segment: 'wan', octet: 99 },
    ]);
    h = lab.hosts as typeof h;
    stops.push(await listen(h.fw, [23, 80]), await listenEcho(h.fw, 22));
  });
  afterAll(async () => { for (const stop of stops) stop(); await lab?.destroy(); });

  test('before start: status exits 3 and reports stopped', async () => {
    expect((await run(['status'], chainConfig)).exitCode).toBe(3);
    expect(await state(chainConfig)).toBe('stopped');
  });

  test('a missing named config exits 6 and applies nothing', async () => {
    const before = await both();
    const r = await run(['start'], '/nonexistent');
    expect(r.exitCode).toBe(6);
    expect(r.stderr).toMatch(/\/nonexistent.*config file not found/);
    expect(await both()).toEqual(before);
    expect(await connects(h.out, MYIP, 23)).toBe(true);
  });

  test('a missing interface exits 6 with a clear message and applies nothing', async () => {
    const before = await both();
    const r = await run(['start'], configs.write('INTERFACE=nosuch0\n'));
    expect(r.exitCode).toBe(6);
    expect(r.stderr).toMatch(/interface nosuch0 does not exist/);
    expect(await both()).toEqual(before);
  });

  test('an interface that is down or has no IPv4 address exits 6, says which, and applies nothing', async () => {
    await mustExec(h.fw, ['ip', 'link', 'add', 'nov4', 'type', 'veth', 'peer', 'name', 'nov4p']);
    try {
      const before = await both();
      const config = configs.write('INTERFACE=nov4\n');
      const down = await run(['start'], config);
      expect(down.exitCode).toBe(6);
      expect(down.stderr).toMatch(/interface nov4 is down/);
      for (const end of ['nov4', 'nov4p']) await mustExec(h.fw, ['ip', 'link', 'set', end, 'up']);
      const up = await run(['start'], config);
      expect(up.exitCode).toBe(6);
      expect(up.stderr).toMatch(/interface nov4 has no IPv4 address/);
      expect(await both()).toEqual(before);
    } finally {
      await mustExec(h.fw, ['ip', 'link', 'del', 'nov4']);
    }
  });

  test('check passes a good config, names the key of a bad one, and changes nothing', async () => {
    const before = await both();
    const good = await run(['check'], ipsetConfig);
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stdout + good.stderr).toMatch(/config ok/);
    const bad = await run(['check'], configs.write('SERVICES=ssh web\nIPV6=maybe\n'));
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/line 2: IPV6: expected one of drop, drop-inbound, mirror, off/);
    expect(await both()).toEqual(before);
    await nothingOfOurs(h.fw, backend);
  });

  test('show prints the backend\'s document and applies nothing', async () => {
    const r = await run(['show'], chainConfig);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const shown of SHOWN[kind(backend)]) expect(r.stdout).toMatch(shown);
    // Each backend shows its own text only.
    for (const other of SHOWN[isIptables(backend) ? 'nftables' : 'iptables'].slice(0, 2)) expect(r.stdout).not.toMatch(other);
    expect((await run(['status'], chainConfig)).exitCode).toBe(3);
    await nothingOfOurs(h.fw, backend);
  });

  test('start: status exits 0, --json parses and says running', async () => {
    const r = await run(['start'], chainConfig);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(hasOurRules(await ourRules(h.fw, backend))).toBe(true);
    expect(await holders(h.fw)).toEqual([backend]);
    const status = await run(['status'], chainConfig);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('anti-spoofing');
    const json = JSON.parse((await run(['status', '--json'], chainConfig)).stdout) as { state: string; backend: string };
    expect(json.state).toBe('running');
    expect(json.backend).toBe(backend);
  });

  test('reload and restart leave the same ruleset and keep chain-mode ban entries', async () => {
    // Bans sit before the replies accept: a session opened before the ban goes dead with it.
    const session = await openSession(h.banned, MYIP, 22);
    try {
      expect(await session.roundTrip('before the ban')).toBe(true);
      await addBan(h.fw, backend, { ip: BANNED, mode: 'chain' });
      expect(await session.roundTrip('after the ban')).toBe(false);
    } finally {
      session.close();
    }
    const before = await both();
    expect(await banListing(h.fw, backend, 'ipv4', 'chain')).toContain(BANNED);
    // The ban is part of what is compared: iptables' ban chain rule, or the set's element.
    expect(before.ipv4).toContain(BANNED);
    expect(await connects(h.banned, MYIP, 22, 1000)).toBe(false);
    for (const verb of ['reload', 'restart']) {
      const r = await run([verb], chainConfig);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await both(), verb).toEqual(before);
    }
    const [ssh, web] = await Promise.all([connects(h.banned, MYIP, 22, 1000), connects(h.banned, MYIP, 80)]);
    expect(ssh).toBe(false);
    expect(web).toBe(true);
  });

  test('reload keeps ipset-mode ban entries', async () => {
    const start = await run(['start'], ipsetConfig);
    expect(start.exitCode, start.stderr).toBe(0);
    // (On nftables the chain-mode ban is still in f2b-SSH: the set is the same in both modes.)
    if (isIptables(backend)) await addBan(h.fw, backend, { ip: BANNED, mode: 'ipset', timeout: 600 });
    expect(await connects(h.banned, MYIP, 22, 1000)).toBe(false);
    const before = await both();
    const r = await run(['reload'], ipsetConfig);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await both()).toEqual(before);
    expect(await banListing(h.fw, backend, 'ipv4', 'ipset')).toContain(BANNED);
    const [banned, other] = await Promise.all([connects(h.banned, MYIP, 22, 1000), connects(h.out, MYIP, 22)]);
    expect(banned).toBe(false);
    expect(other).toBe(true);
  });

  test('stop opens everything; status then exits 3', async () => {
    expect(await connects(h.out, MYIP, 23, 1000)).toBe(false);
    const r = await run(['stop'], ipsetConfig);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await connects(h.out, MYIP, 23)).toBe(true);
    await nothingOfOurs(h.fw, backend);
    expect((await run(['status'], ipsetConfig)).exitCode).toBe(3);
    expect(await state(ipsetConfig)).toBe('stopped');
  });

  test('stop also removes the ban chains, the SNAT rule, the FTP helper rule and mirrored IPv6 rules', async () => {
    const everything = configs.write('BAN_MODE=chain\nSNAT_INTERFACE=eth0\nIPV6=mirror\n');
    const start = await run(['start'], everything);
    expect(start.exitCode, start.stderr).toBe(0);
    await addBan(h.fw, backend, { ip: BANNED, mode: 'chain' });
    if (isIptables(backend)) {
      expect(await mustExec(h.fw, [tool(backend, 'ipv4'), '-t', 'nat', '-S'])).toContain('tsfw:nat');
      expect(await mustExec(h.fw, [tool(backend, 'ipv6'), '-S'])).toContain('-N fail2ban-SSH');
      expect(await mustExec(h.fw, [tool(backend, 'ipv6'), '-t', 'raw', '-S'])).toContain('--helper ftp');
    } else {
      const [v4, v6] = [await ourRules(h.fw, backend, 'ipv4'), await ourRules(h.fw, backend, 'ipv6')];
      expect(v4).toMatch(/^\t\toifname "eth0" .*snat ip to 192\.0\.2\.10 comment "tsfw:nat"$/m);
      expect(v6).toMatch(/^\tset f2b6-SSH \{$/m);
      expect(v6).toMatch(/^\t\ttcp dport 21 counter ct helper set "ftp-tcp" comment "tsfw:helpers:ftp"$/m);
    }
    const r = await run(['stop'], everything);
    expect(r.exitCode, r.stderr).toBe(0);
    await nothingOfOurs(h.fw, backend, [['ipv4', 'filter'], ['ipv4', 'nat'], ['ipv4', 'raw'], ['ipv6', 'filter'], ['ipv6', 'raw']]);
    expect((await run(['status'], everything)).exitCode).toBe(3);
  });

  test('stop opens the host even when the config is unusable', async () => {
    const start = await run(['start'], chainConfig);
    expect(start.exitCode, start.stderr).toBe(0);
    const r = await run(['stop'], configs.write('IPV6=maybe\n'));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/config unusable/);
    await nothingOfOurs(h.fw, backend);
    expect(await connects(h.out, MYIP, 23)).toBe(true);
  });
});
