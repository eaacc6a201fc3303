/**
 * Issue 5, rollback: a failure at any step of start/reload/restart leaves the previous ruleset byte-identical
 * (iptables-save of both families, or `nft -s list ruleset`: counters, timers and generated-on comments aside), and
 * nothing is left in the run directory. Faults come from fake programs first on PATH (the restore programs, nft,
 * ipset), a hidden ipset, and interfaces that are not usable. Each backend's programs and messages are in
 * `restorers` and MESSAGES; nftables loads both families in one transaction and needs no ipset, so the faults of a
 * second load and of ipset are iptables' only, and on nftables the same configs must simply load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { addBan, BACKENDS, closes, isIptables, mustExec, netnsTag, ourRules, tool, useCliCopy, type BackendName } from './helpers.js';
import { failingNft, failingRestore, kernelState, killedNft, natlessNft, natlessRestore, runCli, useScratch, type CliOptions } from './safety-kit.js';

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();

/** The ruleset in place before each fault: chain-mode bans with one entry, so carried-over state is compared too. */
const PREVIOUS = 'FAIL2BAN=no\nBAN_MODE=chain\nSERVICES=ssh web\n';
/** What each faulty apply tries to load: different enough that a partial load would show. */
const NEXT = 'FAIL2BAN=no\nBAN_MODE=chain\nSERVICES=ssh smtp\nTRUSTED_NETS=203.0.113.0/24\nSNAT_INTERFACE=eth0\nIPV6=mirror\n';

/** The programs a backend loads with, as fakes first on PATH: the real one is passed to the fault's script. */
const restorers = (backend: BackendName) => (isIptables(backend)
  ? { ipv4: tool(backend, 'ipv4', '-restore'), ipv6: tool(backend, 'ipv6', '-restore') }
  : { ipv4: 'nft', ipv6: 'nft' });

/** What the CLI says when the kernel refuses the load after the test passed, and when the test itself refuses. */
const MESSAGES = (backend: BackendName) => (isIptables(backend) ? {
  rejected: /loading the ipv4 ruleset failed: .*injected fault.*; the previous ruleset was restored/,
  natless: /--test rejected the ipv4 ruleset: .*table 'nat'.*nothing was changed/,
} : {
  // One transaction, refused as a whole: there is nothing to roll back.
  rejected: /nft rejected the ruleset: .*injected fault.*; nothing was changed/,
  natless: /nft rejected the ruleset: .*no nat chains.*; nothing was changed/,
});

describe.each(BACKENDS)('rollback with %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let tag: string;
  let before: string;
  let record: string | undefined;
  const opts = (extra: Partial<CliOptions> = {}): CliOptions => ({ backend, config: configs.write(NEXT), ...extra });
  const run = (args: string[], extra: Partial<CliOptions> = {}) => runCli(cli.path, fw, scratch, args, opts(extra));
  const real = (family: 'ipv4' | 'ipv6') => `/usr/sbin/${restorers(backend)[family]}`;
  const messages = MESSAGES(backend);

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
    tag = await netnsTag(fw);
    // Legacy iptables registers a table for good the first time anything (even --test) names it, and cannot
    // unregister it: an empty, open nat table can appear and stay. Make it exist from the start, as on any host
    // that ever did NAT, so the comparison is about rules. (nft deletes such tables on rollback: not needed there.)
    if (backend === 'iptables-legacy') await mustExec(fw, [tool(backend, 'ipv4'), '-w', '5', '-t', 'nat', '-S']);
  });
  afterAll(async () => { await lab?.destroy(); });

  beforeEach(async () => {
    const r = await run(['restart'], { config: configs.write(PREVIOUS) });
    expect(r.exitCode, r.stderr).toBe(0);
    await addBan(fw, backend, { ip: '198.51.100.99', mode: 'chain' });
    before = await kernelState(fw, backend);
    // The carried-over ban is part of what is compared: the ban chain's rule, or the ban set's element.
    expect(before).toMatch(isIptables(backend) ? /fail2ban-SSH -s 198\.51\.100\.99/ : /elements = \{ 198\.51\.100\.99 \}/);
    record = scratch.loadedRecord(tag);
    expect((JSON.parse(record ?? '{}') as { rules?: string }).rules).toContain('"group":"services"');
  });

  const unchanged = async (r: { exitCode: number; stderr: string }, code: number, message: RegExp) => {
    expect(r.exitCode, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(await kernelState(fw, backend)).toBe(before);
    expect(scratch.leftovers()).toEqual([]);
    // status keeps comparing the config with what is really loaded: the previous ruleset's record.
    expect(scratch.loadedRecord(tag)).toBe(record);
  };

  /** On nftables a fault of iptables' alone is no fault: the same config loads, and the new ruleset is in. */
  const loads = async (r: { exitCode: number; stderr: string }) => {
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await kernelState(fw, backend)).not.toBe(before);
    expect(await ourRules(fw, backend)).toContain('tsfw:services');
    expect(scratch.leftovers()).toEqual([]);
  };

  test.each(['start', 'reload', 'restart'])('%s: the kernel rejects the load after the test passed', async (verb) => {
    const fake = isIptables(backend) ? failingRestore(real('ipv4')) : failingNft(real('ipv4'));
    const fakeBin = scratch.fakes({ [restorers(backend).ipv4]: fake });
    await unchanged(await run([verb], { fakeBin }), 1, messages.rejected);
  });

  // An nft that ends without an answer may have committed: only a refusal means nothing changed.
  test.skipIf(isIptables(backend))('nft is killed after it committed the load: the previous ruleset is restored', async () => {
    const fakeBin = scratch.fakes({ nft: killedNft(real('ipv4')) });
    await unchanged(await run(['reload'], { fakeBin }), 1, /nft was killed with SIGKILL; the previous ruleset was restored/);
  });

  // nftables loads both families in one transaction, so there is no IPv4 load to leave behind: the case above.
  test.skipIf(!isIptables(backend))('the IPv6 load fails while IPv4 loads beside it: IPv4 is rolled back too', async () => {
    const fakeBin = scratch.fakes({ [restorers(backend).ipv6]: failingRestore(real('ipv6')) });
    await unchanged(await run(['reload'], { fakeBin }), 1, /loading the ipv6 ruleset failed.*the previous ruleset was restored/);
  });

  test('the nat table (nftables: nat chains) is unavailable: the test fails and nothing is loaded', async () => {
    const fake = isIptables(backend) ? natlessRestore(real('ipv4')) : natlessNft(real('ipv4'));
    const fakeBin = scratch.fakes({ [restorers(backend).ipv4]: fake });
    await unchanged(await run(['reload'], { fakeBin }), 1, messages.natless);
  });

  test('ipset is missing with BAN_MODE=ipset: exit 5 and nothing changed on iptables; nftables needs no ipset', async () => {
    // A private mount namespace hides the real program for this one command (which() also looks in /usr/sbin).
    const r = await fw.exec(['unshare', '--mount', '--', 'sh', '-c', 'mount --bind /dev/null "$(command -v ipset)" && exec "$@"', 'sh',
      process.execPath, cli.path, '--config', configs.write(NEXT.replace('BAN_MODE=chain', 'BAN_MODE=ipset')), 'reload'],
    { env: { TSFIREWALL_BACKEND: backend, TSFIREWALL_RUN_DIR: scratch.runDir, SSH_CONNECTION: '' } });
    if (isIptables(backend)) await unchanged(r, 5, /needs the ipset program.*nothing was changed/);
    else await loads(r);
  });

  test('ipset fails to create the sets: nothing changed on iptables; nftables never runs ipset', async () => {
    const fakeBin = scratch.fakes({ ipset: 'cat >/dev/null; echo "ipset v7.17: Kernel error received: Operation not permitted (injected)" >&2; exit 1' });
    const r = await run(['reload'], { fakeBin, config: configs.write(NEXT.replace('BAN_MODE=chain', 'BAN_MODE=ipset')) });
    if (isIptables(backend)) await unchanged(r, 1, /creating the ban sets failed/);
    else await loads(r);
  });
  test('the interface is absent, down, or has no IPv4 address: exit 6, nothing changed', async () => {
    await unchanged(await run(['reload'], { config: configs.write(`${NEXT}INTERFACE=nosuch0\n`) }), 6, /interface nosuch0 does not exist/);
    // No dummy driver on every kernel: a veth pair gives a local interface just as well.
    await mustExec(fw, ['ip', 'link', 'add', 'noaddr0', 'type', 'veth', 'peer', 'name', 'noaddr1']);
    await mustExec(fw, ['ip', 'link', 'set', 'noaddr0', 'up']);
    await mustExec(fw, ['ip', 'link', 'set', 'noaddr1', 'up']);
    await unchanged(await run(['reload'], { config: configs.write(`${NEXT}INTERFACE=noaddr0\n`) }), 6, /interface noaddr0 has no IPv4 address/);
    await mustExec(fw, ['ip', 'addr', 'add', '192.0.2.50/24', 'dev', 'noaddr0']);
    await mustExec(fw, ['ip', 'link', 'set', 'noaddr0', 'down']);
    await unchanged(await run(['reload'], { config: configs.write(`${NEXT}INTERFACE=noaddr0\n`) }), 6, /interface noaddr0 is down: .*bring it up/);
    await mustExec(fw, ['ip', 'link', 'del', 'noaddr0']);
  });

  test('FAIL2BAN=yes without fail2ban installed: exit 5 before anything changes', async () => {
    await unchanged(await run(['reload'], { config: configs.write(NEXT.replace('FAIL2BAN=no', 'FAIL2BAN=yes')) }), 5, /fail2ban is not installed.*nothing was changed/);
  });

  test('a bad config: exit 6, nothing changed', async () => {
    await unchanged(await run(['restart'], { config: configs.write(`${NEXT}SERVICE_SMTP_PORTS=25 -j ACCEPT\n`) }), 6, /SERVICE_SMTP_PORTS/);
  });
});

describe.each(['iptables-nft', 'nftables'] as BackendName[])('faults that are not failures (%s)', (backend) => {
  let lab: Lab;
  let fw: Host;
  beforeAll(async () => { lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]); fw = lab.hosts.fw!; });
  afterAll(async () => { await lab?.destroy(); });
  const run = (args: string[], config: string, extra: Partial<CliOptions> = {}) =>
    runCli(cli.path, fw, scratch, args, { backend, config: configs.write(config), ...extra });

  test('a missing kernel module (no modprobe on this kernel) only warns; the ruleset loads', async () => {
    const r = await run(['start'], 'FAIL2BAN=no\nMODULES=nf_conntrack_ftp no_such_module\n');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await kernelState(fw, backend)).toMatch(/tsfw:services/);
  });

  test('fail2ban missing with FAIL2BAN=auto: the firewall comes up and start says so', async () => {
    const r = await run(['start'], 'FAIL2BAN=auto\n');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/fail2ban is not installed: firewall is up/);
  });

  test('fail2ban failing to start: exit 1, and the complete new ruleset stays up (a ban daemon never opens the host)', async () => {
    const fakeBin = scratch.fakes({ 'fail2ban-client': 'echo "ERROR  Failed during configuration: injected" >&2; exit 255' });
    mkdirSync(join(scratch.fail2banDir, 'filter.d'), { recursive: true });
    writeFileSync(join(scratch.fail2banDir, 'filter.d', 'sshd.conf'), '[Definition]\nfailregex = ^Failed password for .* from <HOST>\n');
    await run(['stop'], 'FAIL2BAN=no\n');
    const r = await run(['start'], 'FAIL2BAN=yes\nSERVICES=ssh smtp\nSERVICE_SSH_JAIL_LOGPATH=/var/log/auth.log\n', { fakeBin });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/fail2ban failed to start \(firewall is up, bans are not\)/);
    const state = await kernelState(fw, backend);
    expect(state).toMatch(isIptables(backend) ? /--dport 25 .*-j ACCEPT/ : /tcp dport 25 counter accept comment "tsfw:services:smtp"/);
    expect(closes(backend, state), state).toBe(true);
    expect(scratch.leftovers()).toEqual([]);
  });
});
