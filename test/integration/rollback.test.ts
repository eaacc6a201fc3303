/**
 * Issue 5, rollback: a failure at any step of start/reload/restart leaves the previous ruleset byte-identical
 * (iptables-save of both families, counters and generated-on comments aside), and nothing is left in the run
 * directory. Faults come from fake programs first on PATH, a hidden ipset, and interfaces that are not usable.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, closes, mustExec, tool, useCliCopy, type BackendName } from './helpers.js';
import { failingRestore, kernelState, natlessRestore, runCli, useScratch, type CliOptions } from './safety-kit.js';

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();

/** The ruleset in place before each fault: chain-mode bans with one entry, so carried-over state is compared too. */
const PREVIOUS = 'FAIL2BAN=no\nBAN_MODE=chain\nSERVICES=ssh web\n';
/** What each faulty apply tries to load: different enough that a partial load would show. */
const NEXT = 'FAIL2BAN=no\nBAN_MODE=chain\nSERVICES=ssh smtp\nTRUSTED_NETS=203.0.113.0/24\nSNAT_INTERFACE=eth0\nIPV6=mirror\n';

describe.each(BACKENDS)('rollback with iptables-%s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let before: string;
  let record: string | undefined;
  const opts = (extra: Partial<CliOptions> = {}): CliOptions => ({ backend, config: configs.write(NEXT), ...extra });
  const run = (args: string[], extra: Partial<CliOptions> = {}) => runCli(cli.path, fw, scratch, args, opts(extra));
  const real = (family: 'ipv4' | 'ipv6') => `/usr/sbin/${tool(backend, family, '-restore')}`;

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
    // Legacy iptables registers a table for good the first time anything (even --test) names it, and cannot
    // unregister it: an empty, open nat table can appear and stay. Make it exist from the start, as on any host
    // that ever did NAT, so the comparison is about rules. (nft deletes such tables on rollback: not needed there.)
    if (backend === 'legacy') await mustExec(fw, [tool(backend, 'ipv4'), '-w', '5', '-t', 'nat', '-S']);
  });
  afterAll(async () => { await lab?.destroy(); });

  beforeEach(async () => {
    const r = await run(['restart'], { config: configs.write(PREVIOUS) });
    expect(r.exitCode, r.stderr).toBe(0);
    await mustExec(fw, [tool(backend, 'ipv4'), '-w', '5', '-A', 'fail2ban-SSH', '-s', '198.51.100.99', '-j', 'DROP']);
    before = await kernelState(fw, backend);
    expect(before).toMatch(/fail2ban-SSH -s 198\.51\.100\.99/);
    record = scratch.loadedRecord();
    expect((JSON.parse(record ?? '{}') as { rules?: string }).rules).toContain('"group":"services"');
  });

  const unchanged = async (r: { exitCode: number; stderr: string }, code: number, message: RegExp) => {
    expect(r.exitCode, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(await kernelState(fw, backend)).toBe(before);
    expect(scratch.leftovers()).toEqual([]);
    // status keeps comparing the config with what is really loaded: the previous ruleset's record.
    expect(scratch.loadedRecord()).toBe(record);
  };

  test.each(['start', 'reload', 'restart'])('%s: the kernel rejects the IPv4 load after --test passed', async (verb) => {
    const fakeBin = scratch.fakes({ [tool(backend, 'ipv4', '-restore')]: failingRestore(real('ipv4')) });
    await unchanged(await run([verb], { fakeBin }), 1, /loading the ipv4 ruleset failed: .*injected fault.*; the previous ruleset was restored/);
  });

  test('the IPv6 load fails while IPv4 loads beside it: IPv4 is rolled back too', async () => {
    const fakeBin = scratch.fakes({ [tool(backend, 'ipv6', '-restore')]: failingRestore(real('ipv6')) });
    await unchanged(await run(['reload'], { fakeBin }), 1, /loading the ipv6 ruleset failed.*the previous ruleset was restored/);
  });

  test('the nat table is unavailable: --test fails and nothing is loaded', async () => {
    const fakeBin = scratch.fakes({ [tool(backend, 'ipv4', '-restore')]: natlessRestore(real('ipv4')) });
    await unchanged(await run(['reload'], { fakeBin }), 1, /--test rejected the ipv4 ruleset: .*table 'nat'.*nothing was changed/);
  });

  test('ipset is missing with BAN_MODE=ipset: exit 5, nothing changed', async () => {
    // A private mount namespace hides the real program for this one command (which() also looks in /usr/sbin).
    const r = await fw.exec(['unshare', '--mount', '--', 'sh', '-c', 'mount --bind /dev/null "$(command -v ipset)" && exec "$@"', 'sh',
      process.execPath, cli.path, '--config', configs.write(NEXT.replace('BAN_MODE=chain', 'BAN_MODE=ipset')), 'reload'],
    { env: { TSFIREWALL_BACKEND: backend, TSFIREWALL_RUN_DIR: scratch.runDir, SSH_CONNECTION: '' } });
    await unchanged(r, 5, /needs the ipset program.*nothing was changed/);
  });

  test('ipset fails to create the sets: nothing changed', async () => {
    const fakeBin = scratch.fakes({ ipset: 'cat >/dev/null; echo "ipset v7.17: Kernel error received: Operation not permitted (injected)" >&2; exit 1' });
    await unchanged(await run(['reload'], { fakeBin, config: configs.write(NEXT.replace('BAN_MODE=chain', 'BAN_MODE=ipset')) }), 1, /creating the ban sets failed/);
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

describe('faults that are not failures (nft)', () => {
  const backend: BackendName = 'nft';
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
    expect(state).toMatch(/--dport 25 .*-j ACCEPT/);
    expect(closes(state), state).toBe(true);
    expect(scratch.leftovers()).toEqual([]);
  });
});
