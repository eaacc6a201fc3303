/**
 * Issue 13's proof kit at work, once per backend: a real dockerd in a lab namespace with a container
 * publishing 8080 -> 80, a peer that reaches it through DNAT, fail2ban's stock sshd chain and libvirt's nft table
 * beside Docker's rules; then tsfirewall's verbs, after each of which the foreign rules must read back
 * byte-identical and the published port must still answer while INPUT is closed. The foreign tools use an iptables
 * flavour (`foreign`): the backend's own on iptables, and on nftables iptables-nft, what Docker and fail2ban's
 * stock actions use on a Debian 12 host where tsfirewall keeps its own table. TSFW_CAPTURE_FOREIGN=1 rewrites the
 * captured fixtures.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FOREIGN_FIXTURES, foreignIptables, foreignNft, foreignRules, loadIptables, loadNft, readFixture, type Family } from '../harness/foreign.js';
import { loadListenerImage, startNetnsDockerd, type NetnsDockerd } from '../harness/netns-dockerd.js';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { until } from '../harness/poll.js';
import { BACKENDS, connects, flavour, hasOurRules, isIptables, mustExec, ourRules, ruleCounter, savedRules, tool, useCliCopy, type IptablesBackend } from './helpers.js';
import { runCli, useScratch } from './safety-kit.js';

const CAPTURE = process.env.TSFW_CAPTURE_FOREIGN === '1';
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];
const PUBLISHED = 8080;
const CLOSED = 8081; // a listener in the firewall's own namespace that the config does not open
const BANNED: Readonly<Record<Family, string>> = { ipv4: '198.51.100.77', ipv6: '2001:db8:2::77' };
const CONFIG = 'INTERFACE=eth0\nTRUST_LOCAL_SUBNET=no\nSERVICES=ssh\nFAIL2BAN=no\nBAN_MODE=chain\nIPV6=drop\n';

const cli = useCliCopy();
const scratch = useScratch();

/** fail2ban 1.0.2's iptables-multiport actionstart and one actionban for jail sshd, as its action.d expands them. */
const fail2banSshd = (foreign: IptablesBackend, family: Family): string[][] => {
  const ipt = [tool(foreign, family), '-w'];
  const reject = family === 'ipv4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
  return [
    [...ipt, '-N', 'f2b-sshd'],
    [...ipt, '-A', 'f2b-sshd', '-j', 'RETURN'],
    [...ipt, '-I', 'INPUT', '-p', 'tcp', '-m', 'multiport', '--dports', 'ssh', '-j', 'f2b-sshd'],
    [...ipt, '-I', 'f2b-sshd', '1', '-s', BANNED[family], '-j', 'REJECT', '--reject-with', reject],
  ];
};

/** The fixture file; in capture mode first (re)written from what the real tool just produced. */
function fixture(name: string, live: string): string {
  if (CAPTURE) writeFileSync(`${FOREIGN_FIXTURES}${name}`, live.endsWith('\n') ? live : `${live}\n`);
  return readFixture(name);
}

/** Rules of ours a self-test adds by hand: a tsfw chain and its jump, marked rules (one in raw), a ban chain. */
const oursByHand = (ipt: string): string[][] => [
  [ipt, '-w', '-N', 'tsfw-selftest'],
  [ipt, '-w', '-I', 'INPUT', '-j', 'tsfw-selftest'],
  [ipt, '-w', '-A', 'tsfw-selftest', '-m', 'comment', '--comment', 'tsfw:selftest', '-j', 'ACCEPT'],
  [ipt, '-w', '-N', 'fail2ban-selftest'],
  [ipt, '-w', '-A', 'FORWARD', '-p', 'tcp', '--dport', '81', '-m', 'comment', '--comment', 'tsfw:selftest', '-j', 'DROP'],
  [ipt, '-w', '-t', 'raw', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '21', '-m', 'comment', '--comment', 'tsfw:selftest', '-j', 'ACCEPT'],
];

describe.each(BACKENDS)('foreign rules beside dockerd, tsfirewall on %s', (backend) => {
  const foreign: IptablesBackend = isIptables(backend) ? backend : 'iptables-nft';
  const fx = flavour(foreign);
  let lab: Lab;
  let h: Record<'dock' | 'peer' | 'fx' | 'f2b', Host>;
  let dockerd: NetnsDockerd | undefined;
  let baseline: Record<string, string> = {};
  const stops: (() => void)[] = [];
  const config = cli.configs.write(CONFIG);
  const run = (args: string[], env: Record<string, string> = {}) => runCli(cli.path, h.dock, scratch, args, { backend, config, env });
  const reachable = () => connects(h.peer, h.dock.ip, PUBLISHED);
  const dnatHits = () => ruleCounter(h.dock, foreign, ['-j DNAT', `--dport ${PUBLISHED}`]).catch(() => -1);
  /**
   * Connects, and Docker's DNAT rule counted it. A connect alone proves nothing: even with docker-proxy off, dockerd
   * 20.10 holds the published port open in its namespace, so the handshake succeeds with DNAT gone.
   */
  const reachableThroughDnat = async () => {
    const hits = await dnatHits();
    const connected = await reachable();
    return { connected, counted: hits >= 0 && (await dnatHits()) > hits };
  };

  beforeAll(async () => {
    lab = await createLab(['dock', 'peer', 'fx', 'f2b'].map((name, i) => ({ name, segment: 'wan' as const, octet: 10 * (i + 1) })), { ipv6: true });
    h = lab.hosts as typeof h;
    dockerd = await startNetnsDockerd(h.dock, { iptables: fx, ipv6: true });
    const image = await loadListenerImage(dockerd);
    await dockerd.dockerOk(['network', 'create', '--subnet', '203.0.113.0/28', '--gateway', '203.0.113.1', '--ipv6',
      '--subnet', '2001:db8:5::/64', '-o', 'com.docker.network.bridge.name=br-tsfwnet', 'tsfwnet']);
    await dockerd.dockerOk(['run', '-d', '--name', 'web', '--network', 'tsfwnet', '--ip', '203.0.113.2', '--ip6', '2001:db8:5::2',
      '-p', `${PUBLISHED}:80`, image]);
    await until('the published port to answer the peer through DNAT', async () => Object.values(await reachableThroughDnat()).every(Boolean), 60);
    for (const host of [h.dock, h.fx]) await mustExec(host, ['ip', 'link', 'add', 'virbr0', 'type', 'bridge']);
    stops.push(await listen(h.dock, [CLOSED]));
  });
  afterAll(async () => {
    for (const stop of stops) stop();
    await dockerd?.stop();
    await lab?.destroy();
  });

  test('before tsfirewall: the peer reaches the container through DNAT', async () => {
    expect(await reachableThroughDnat()).toEqual({ connected: true, counted: true });
    expect(await connects(h.peer, h.dock.ip, CLOSED)).toBe(true);
  });

  test('dockerd in the namespace writes the captured ruleset', async () => {
    for (const family of FAMILIES) {
      const live = await mustExec(h.dock, [tool(foreign, family, '-save')]);
      expect(foreignIptables(live)).toBe(foreignIptables(fixture(`docker.${foreign}.${family}.save`, live)));
    }
    const nft = await mustExec(h.dock, ['nft', 'list', 'ruleset']);
    const all = { iptablesTables: true };
    if (foreign === 'iptables-nft') expect(foreignNft(nft, all)).toBe(foreignNft(fixture('docker.iptables-nft.nft', nft), all));
    else expect(nft).toBe('');
  });

  test("fail2ban's stock sshd commands write the captured f2b-sshd chain", async () => {
    for (const family of FAMILIES) {
      for (const argv of fail2banSshd(foreign, family)) await mustExec(h.f2b, argv);
      const live = await mustExec(h.f2b, [tool(foreign, family, '-save')]);
      expect(foreignIptables(live)).toBe(foreignIptables(fixture(`fail2ban-sshd.${foreign}.${family}.save`, live)));
    }
  });

  test('harness self-test: fixtures read back byte-identical, and rules of ours are left out', async () => {
    for (const family of FAMILIES) {
      const docker = readFixture(`docker.${foreign}.${family}.save`);
      await loadIptables(h.fx, fx, family, docker);
      expect((await foreignRules(h.fx, [foreign]))[tool(foreign, family, '-save')]).toBe(foreignIptables(docker));
      await loadIptables(h.fx, fx, family, readFixture(`fail2ban-sshd.${foreign}.${family}.save`));
    }
    await loadNft(h.fx, readFixture('libvirt.nft'));
    const loaded = await foreignRules(h.fx);
    expect(loaded[tool(foreign, 'ipv4', '-save')]).toContain(':f2b-sshd - [0:0]');
    if (foreign === 'iptables-legacy') expect(loaded['nft list ruleset']).toBe(foreignNft(readFixture('libvirt.nft')));
    for (const family of FAMILIES) for (const argv of oursByHand(tool(foreign, family))) await mustExec(h.fx, argv);
    await loadNft(h.fx, 'table inet tsfirewall {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n');
    expect((await savedRules(h.fx, foreign)).includes('tsfw-selftest')).toBe(true);
    expect(await foreignRules(h.fx)).toEqual(loaded);
  });

  test('the same fixtures beside the live dockerd: the baseline each verb below must keep', async () => {
    for (const family of FAMILIES) await loadIptables(h.dock, fx, family, readFixture(`fail2ban-sshd.${foreign}.${family}.save`));
    await loadNft(h.dock, readFixture('libvirt.nft'));
    baseline = await foreignRules(h.dock);
    const selfTest = await foreignRules(h.fx, [foreign]);
    for (const [view, text] of Object.entries(selfTest)) expect(baseline[view], view).toBe(text);
    expect(baseline['nft list ruleset']).toContain('table ip libvirt_network {');
    expect(await reachable()).toBe(true);
  });

  // Before tsfirewall owned only its own chains, every verb flushed filter and nat (Docker's chains, the FORWARD
  // jumps, MASQUERADE and DNAT went) and set FORWARD ACCEPT: both promises below failed on every verb.
  const verbs: readonly { name: string; ours: boolean }[] = [
    { name: 'start', ours: true }, { name: 'reload', ours: true }, { name: 'restart', ours: true },
    { name: 'recovery', ours: true }, { name: 'stop', ours: false },
  ];
  for (const verb of verbs) {
    const title = verb.name === 'recovery' ? 'reload after a reload killed at after-ipv4 (recovery)' : verb.name;
    test(`${title}: succeeds, and INPUT is ${verb.ours ? 'closed' : 'open'} after it`, async () => {
      if (verb.name === 'recovery') {
        const killed = await run(['reload'], { TSFIREWALL_FAULT: 'after-ipv4' });
        expect(killed.stderr).toContain('fault point after-ipv4 reached (kill)');
      }
      const r = await run([verb.name === 'recovery' ? 'reload' : verb.name]);
      expect(r.exitCode, r.stderr).toBe(0);
      if (verb.name === 'recovery') expect(r.stderr).toMatch(/was interrupted mid-apply; the ruleset from before it was restored/);
      expect(hasOurRules(await ourRules(h.dock, backend))).toBe(verb.ours);
      expect(await connects(h.peer, h.dock.ip, CLOSED, verb.ours ? 1000 : 5000)).toBe(!verb.ours);
    });
    test(`${title}: the foreign rules read back byte-identical`, async () => {
      expect(await foreignRules(h.dock)).toEqual(baseline);
    });
    test(`${title}: the published port still answers the peer through DNAT`, async () => {
      expect(await reachableThroughDnat()).toEqual({ connected: true, counted: true });
    });
  }
});
