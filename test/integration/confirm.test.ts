/**
 * Issue 5, confirm-or-rollback: `reload --confirm N` keeps the new ruleset only if `tsfirewall confirm` (from another
 * shell) or a key on its own terminal arrives within N seconds; otherwise, or on a signal or Ctrl-C, the previous
 * ruleset comes back - checked with real connections from another namespace, as a locked-out admin would see it.
 * On iptables-nft and nftables (the wait is above the backend; legacy's rollback is covered by rollback.test.ts).
 */
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { canConnect, createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { mustExec, useCliCopy, type BackendName } from './helpers.js';
import { cliEnv, kernelState, runCli, spawnCli, useScratch, waitForStderr, type CliOptions } from './safety-kit.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';

const MYIP = '192.0.2.10';
/** The admin reaches the web port; the new ruleset closes it (as a mistaken SERVICES line would close SSH). */
const PREVIOUS = 'FAIL2BAN=no\nSERVICES=ssh web\n';
const NEXT = 'FAIL2BAN=no\nSERVICES=ssh\n';
const PROMPT = /run "tsfirewall confirm".* within \d+ s to keep it/;

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();

describe.each(['iptables-nft', 'nftables'] as BackendName[])('--confirm with %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let admin: Host;
  let stopListener: () => void;
  let before: string;
  const opts = (config: string, extra: Partial<CliOptions> = {}): CliOptions => ({ backend, config: configs.write(config), ...extra });
  const run = (args: string[], config = NEXT, extra: Partial<CliOptions> = {}) => runCli(cli.path, fw, scratch, args, opts(config, extra));

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'admin', segment: 'wan', octet: 20 }]);
    fw = lab.hosts.fw!;
    admin = lab.hosts.admin!;
    stopListener = await listen(fw, [80]);
  });
  afterAll(async () => { stopListener?.(); await lab?.destroy(); });
  beforeEach(async () => {
    const r = await run(['restart'], PREVIOUS);
    expect(r.exitCode, r.stderr).toBe(0);
    before = await kernelState(fw, backend);
    expect(await canConnect(admin, MYIP, 80)).toBe(true);
  });

  test('confirmed from another shell: both exit 0 and the new ruleset stays', async () => {
    const waiter = spawnCli(cli.path, fw, scratch, ['reload', '--confirm', '30'], opts(NEXT));
    await waitForStderr(waiter, PROMPT);
    expect(await canConnect(admin, MYIP, 80, 1000)).toBe(false);
    const confirm = await run(['confirm']);
    expect(confirm.exitCode, confirm.stderr).toBe(0);
    expect(confirm.stdout).toMatch(/confirmed: tsfirewall \(pid \d+\) keeps the new ruleset/);
    const r = await waiter;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await kernelState(fw, backend)).not.toBe(before);
    expect(await canConnect(admin, MYIP, 80, 1000)).toBe(false);
    expect(scratch.leftovers()).toEqual([]);
  });

  test('no confirmation in time: the previous ruleset comes back and the admin gets in again', async () => {
    const started = Date.now();
    const r = await run(['reload', '--confirm', '2']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/not confirmed in time; the previous ruleset was restored/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(await kernelState(fw, backend)).toBe(before);
    expect(await canConnect(admin, MYIP, 80)).toBe(true);
    expect(scratch.leftovers()).toEqual([]);
    const late = await run(['confirm']);
    expect(late.exitCode).toBe(1);
    expect(late.stderr).toMatch(/no tsfirewall is waiting for confirmation/);
  });

  test('SIGTERM while waiting rolls back; a reload meanwhile waits for the lock, then gives up honestly', async () => {
    const waiter = spawnCli(cli.path, fw, scratch, ['restart', '--confirm', '30'], opts(NEXT));
    await waitForStderr(waiter, PROMPT);
    const busy = await run(['reload'], PREVIOUS, { env: { TSFIREWALL_LOCK_WAIT: '1' } });
    expect(busy.exitCode).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`another tsfirewall is running \\(pid ${waiter.pid}\\); gave up after waiting 1 s, nothing was changed`));
    waiter.kill('SIGTERM');
    const r = await waiter;
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/interrupted by SIGTERM; the previous ruleset was restored/);
    expect(await kernelState(fw, backend)).toBe(before);
    expect(scratch.leftovers()).toEqual([]);
  });

  test('a rollback keeps the bans fail2ban added and removed while it waited', async () => {
    const setCmd = (verb: 'add' | 'del', ip: string) => (backend === 'nftables'
      ? ['nft', verb === 'add' ? 'add' : 'delete', 'element', 'inet', 'tsfirewall', 'f2b-SSH', `{ ${ip}${verb === 'add' ? ' timeout 600s' : ''} }`]
      : ['ipset', verb, 'f2b-SSH', ip, ...(verb === 'add' ? ['timeout', '600'] : [])]);
    const members = async () => {
      const r = await run(['bans', '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { jails: { addresses: string[] }[] }).jails.flatMap((j) => j.addresses).sort();
    };
    await mustExec(fw, setCmd('add', '198.51.100.41'));
    const waiter = spawnCli(cli.path, fw, scratch, ['reload', '--confirm', '30'], opts(NEXT));
    await waitForStderr(waiter, PROMPT);
    await mustExec(fw, setCmd('add', '198.51.100.42'));
    await mustExec(fw, setCmd('del', '198.51.100.41'));
    waiter.kill('SIGTERM');
    const r = await waiter;
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/the previous ruleset was restored/);
    expect(await canConnect(admin, MYIP, 80)).toBe(true);
    expect(await members()).toEqual(['198.51.100.42']);
    await mustExec(fw, setCmd('del', '198.51.100.42'));
  });

  /** Runs the CLI on a pseudo-terminal (script(1)) and types `keys` once the prompt is there. */
  async function onTerminal(keys: string) {
    const argv = ['ip', 'netns', 'exec', fw.ns, ...withoutFail2ban([process.execPath, cli.path, '--config', configs.write(NEXT), 'reload', '--confirm', '30'])];
    const child = execa('script', ['-qefc', argv.map((a) => `'${a}'`).join(' '), '/dev/null'], {
      env: cliEnv(scratch, { backend }), reject: false, timeout: 60_000,
    });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no prompt on the terminal: ${seen}`)), 20_000);
      child.stdout?.on('data', (c: Buffer) => { seen += c.toString(); if (/press Enter here/.test(seen)) { clearTimeout(timer); resolve(); } });
    });
    child.stdin?.write(keys);
    return child;
  }

  test('a key on the terminal confirms', async () => {
    const r = await (await onTerminal('\r'));
    expect(r.exitCode, String(r.stdout)).toBe(0);
    expect(await kernelState(fw, backend)).not.toBe(before);
  });

  test('Ctrl-C on the terminal rolls back at once', async () => {
    const started = Date.now();
    const r = await (await onTerminal('\x03'));
    expect(r.exitCode, String(r.stdout)).toBe(1);
    expect(String(r.stdout)).toMatch(/refused on the terminal; the previous ruleset was restored/);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(await kernelState(fw, backend)).toBe(before);
  });

  test.each(['0', '3601', 'soon', '-5'])('--confirm %s is a usage error (exit 2), nothing changed', async (value) => {
    const r = await run(['reload', `--confirm=${value}`]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--confirm expects a number of seconds from 1 to 3600/);
    expect(await kernelState(fw, backend)).toBe(before);
  });
});
