/**
 * Issue 5, the process dying mid-apply. At each named fault point (TSFIREWALL_FAULT) the CLI kills itself:
 * - SIGTERM (or SIGINT/SIGHUP from outside) is caught: the previous ruleset is restored before it exits 1;
 * - SIGKILL cannot be caught: the kernel may hold the new ruleset (or one family of it), the journal stays,
 *   and the next locked verb puts the previous ruleset back first - proven with a verb that then fails on a bad
 *   config, so only the recovery can explain the byte-identical result.
 * Also: a full disk under the run directory, and a symlinked run directory, stop the apply before any change.
 * Every fault point on iptables-nft and nftables (where prepare is a no-op and one transaction loads both families,
 * so after-ipv4 and after-ipv6 are both reached with both in), the loaded point on iptables-legacy.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { mustExec, useCliCopy, type BackendName } from './helpers.js';
import { cliEnv, isOpen, kernelState, runCli, spawnCli, useScratch, waitForStderr, type CliOptions } from './safety-kit.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();

const PREVIOUS = 'FAIL2BAN=no\nBAN_MODE=ipset\nSERVICES=ssh web\n';
const NEXT = 'FAIL2BAN=no\nBAN_MODE=ipset\nSERVICES=ssh smtp\nTRUSTED_NETS=203.0.113.0/24\nSNAT_INTERFACE=eth0\nIPV6=mirror\n';
const BROKEN = 'SERVICES=ssh\nTRUSTED_NETS=not-a-network\n';
const POINTS = ['after-journal', 'after-ipsets', 'after-test', 'after-ipv4', 'after-ipv6', 'before-commit'] as const;

function suite(backend: BackendName, points: readonly string[]) {
  let lab: Lab;
  let fw: Host;
  let before: string;
  const run = (args: string[], config: string, extra: Partial<CliOptions> = {}) =>
    runCli(cli.path, fw, scratch, args, { backend, config: configs.write(config), ...extra });

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
    // Legacy iptables cannot unregister a table once named (even by --test): start with nat registered, as on any
    // host that ever did NAT, so the comparison is about rules (see docs/safety.md).
    if (backend === 'iptables-legacy') await mustExec(fw, ['iptables-legacy', '-w', '5', '-t', 'nat', '-S']);
  });
  afterAll(async () => { await lab?.destroy(); });
  beforeEach(async () => {
    const r = await run(['restart'], PREVIOUS);
    expect(r.exitCode, r.stderr).toBe(0);
    before = await kernelState(fw, backend);
  });

  test.each(points)('SIGKILL at %s: the next verb restores the previous ruleset first', async (point) => {
    const killed = await run(['reload'], NEXT, { env: { TSFIREWALL_FAULT: point } });
    expect(killed.exitCode).not.toBe(0);
    expect(killed.stderr).toContain(`fault point ${point} reached (kill)`);
    expect(scratch.leftovers()).toEqual([expect.stringMatching(/^journal\.net-\d+\.json$/)]);
    if (point === 'after-ipv4') expect(await kernelState(fw, backend)).not.toBe(before);
    const status = await run(['status'], NEXT);
    expect(status.stderr).toMatch(/a "reload" \(pid \d+\) was killed mid-apply/);
    const next = await run(['reload'], BROKEN);
    expect(next.exitCode, next.stderr).toBe(6);
    expect(next.stderr).toMatch(/a previous "reload" \(pid \d+, started .*\) was interrupted mid-apply; the ruleset from before it was restored/);
    expect(await kernelState(fw, backend)).toBe(before);
    expect(scratch.leftovers()).toEqual([]);
  });

  test.each(points)('SIGTERM at %s: rolled back before exiting 1', async (point) => {
    const r = await run(['reload'], NEXT, { env: { TSFIREWALL_FAULT: `${point}:term` } });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/interrupted by SIGTERM; (the previous ruleset was restored|nothing was changed)/);
    expect(await kernelState(fw, backend)).toBe(before);
    expect(scratch.leftovers()).toEqual([]);
  });
}

describe('iptables-nft, every fault point', () => suite('iptables-nft', POINTS));
describe('nftables, every fault point', () => suite('nftables', POINTS));
describe('iptables-legacy, the loaded point', () => suite('iptables-legacy', ['after-ipv4']));

/**
 * One namespace for the describe, and before each test the PREVIOUS ruleset started in it, whose kernel state the
 * test compares against (`before`).
 */
function restartedBeforeEach(backend: BackendName): { readonly fw: Host; readonly before: string } {
  let lab: Lab | undefined;
  const state = { fw: undefined as unknown as Host, before: '' };
  beforeAll(async () => { lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]); state.fw = lab.hosts.fw!; });
  afterAll(async () => { await lab?.destroy(); });
  beforeEach(async () => {
    const r = await runCli(cli.path, state.fw, scratch, ['restart'], { backend, config: configs.write(PREVIOUS) });
    expect(r.exitCode, r.stderr).toBe(0);
    state.before = await kernelState(state.fw, backend);
  });
  return state;
}

describe.each(['iptables-nft', 'nftables'] as BackendName[])('signals from outside, disk full, symlinked run directory (%s)', (backend) => {
  const lab = restartedBeforeEach(backend);

  test.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s while paused after the loads rolls back', async (signal) => {
    const child = spawnCli(cli.path, lab.fw, scratch, ['reload'], { backend, config: configs.write(NEXT), env: { TSFIREWALL_FAULT: 'after-ipv4:pause' } });
    await waitForStderr(child, /fault point after-ipv4 reached \(pause\)/);
    expect(await kernelState(lab.fw, backend)).not.toBe(lab.before);
    child.kill(signal);
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(String(r.stderr)).toMatch(new RegExp(`interrupted by ${signal}; the previous ruleset was restored`));
    expect(await kernelState(lab.fw, backend)).toBe(lab.before);
    expect(scratch.leftovers()).toEqual([]);
  });

  test('SIGKILL, then stop: recovery, and the host is open', async () => {
    await runCli(cli.path, lab.fw, scratch, ['reload'], { backend, config: configs.write(NEXT), env: { TSFIREWALL_FAULT: 'after-ipv4' } });
    const r = await runCli(cli.path, lab.fw, scratch, ['stop'], { backend, config: configs.write(PREVIOUS) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/was interrupted mid-apply/);
    expect(isOpen(backend, await kernelState(lab.fw, backend))).toBe(true);
    expect(scratch.leftovers()).toEqual([]);
  });

  test('a full disk under the run directory: the journal cannot be written, so nothing is applied', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'tsfw-full-'));
    try {
      // A private mount namespace: the tiny tmpfs exists only for this one command.
      const env = cliEnv(scratch, { backend, env: { TSFIREWALL_RUN_DIR: join(mnt, 'run') } });
      const r = await lab.fw.exec(['unshare', '--mount', '--', 'sh', '-c',
        'mount -t tmpfs -o size=12k,mode=0755 tsfw-full "$0" && head -c 12288 /dev/zero > "$0/filler"; exec "$@"', mnt,
        ...withoutFail2ban([process.execPath, cli.path, '--config', configs.write(NEXT), 'reload'])], { env });
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/cannot write .*journal.*no space left on the device.*nothing was changed/);
      expect(await kernelState(lab.fw, backend)).toBe(lab.before);
    } finally {
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  test('a symlinked run directory is refused by reload (nothing changed); stop still opens the host', async () => {
    const base = mkdtempSync(join(tmpdir(), 'tsfw-link-'));
    mkdirSync(join(base, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(base, 'elsewhere'), join(base, 'run'));
    try {
      const opts = { backend, config: configs.write(NEXT), env: { TSFIREWALL_RUN_DIR: join(base, 'run') } };
      const r = await runCli(cli.path, lab.fw, scratch, ['reload'], opts);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/run is a symlink; refusing to keep state there/);
      expect(await kernelState(lab.fw, backend)).toBe(lab.before);
      const stop = await runCli(cli.path, lab.fw, scratch, ['stop'], opts);
      expect(stop.exitCode, stop.stderr).toBe(0);
      // The lock is an abstract socket, not a file in the run directory, so stop still runs locked here.
      expect(stop.stdout).toMatch(/firewall stopped/);
      expect(isOpen(backend, await kernelState(lab.fw, backend))).toBe(true);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

/**
 * libnftables, in process, waits for the kernel's answer to a load in pselect6(), which any signal with a handler
 * interrupts: the kernel has committed by then, but an unread answer reads as a refusal ("Interrupted system call"),
 * which once said "nothing was changed" over a loaded ruleset. strace injects the signal exactly there (the first
 * pselect6 of a reload is its load's); held through the call, it must reach the next checkpoint and roll back.
 */
describe('nftables: a signal while libnftables waits for the kernel\'s answer', () => {
  const backend: BackendName = 'nftables';
  const lab = restartedBeforeEach(backend);

  test.each(['SIGTERM', 'SIGHUP'] as const)('%s at the load\'s wait: read, then rolled back, and said so', async (signal) => {
    const env = cliEnv(scratch, { backend, env: { TSFIREWALL_TRACE: '1' } });
    const r = await lab.fw.exec(['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=pselect6', '-e', `inject=pselect6:signal=${signal}:when=1`,
      ...withoutFail2ban([process.execPath, cli.path, '--config', configs.write(NEXT), 'reload'])], { env, timeoutMs: 60_000 });
    expect(r.stderr).toContain('"exec libnftables"');
    expect(r.stderr).not.toMatch(/Interrupted system call|nothing was changed/);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`interrupted by ${signal}; the previous ruleset was restored`));
    expect(await kernelState(lab.fw, backend)).toBe(lab.before);
    expect(scratch.leftovers()).toEqual([]);
  });
});
