/**
 * Issue 17 item 2 in a namespace, per backend: `diff` (and `reload --dry-run`) holds the live rules against what a
 * reload would load, names the config key or the address change behind each difference, shows a change made from
 * outside, exits 0 same / 1 different / 3 not running, and changes nothing: the whole ruleset and the ban sets are
 * byte-identical after it.
 */
import { describe, expect, test } from 'vitest';
import type { Host } from '../harness/netns.js';
import { BACKENDS, isIptables, kernelBans, mustExec, tool, tsfw, tsfwOk, useCliCopy, useLoneFirewall, type BackendName } from './helpers.js';

const cli = useCliCopy();

/**
 * Everything the kernel holds in this namespace, counters aside: every table of every tool, and the ban sets (a
 * ban's timeout counts down by itself, so only that number is left out).
 */
async function wholeRuleset(fw: Host, backend: BackendName): Promise<string> {
  const nft = await mustExec(fw, ['nft', '-s', 'list', 'ruleset']);
  const saves = isIptables(backend)
    ? await Promise.all((['ipv4', 'ipv6'] as const).map((f) => mustExec(fw, [tool(backend, f, '-save')])))
    : [];
  const clean = (t: string) => t.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]')).join('\n');
  return [nft, ...saves.map(clean), (await kernelBans(fw, backend)).replace(/^(add \S+ \S+ timeout )\d+$/gm, '$1N')].join('\n---\n');
}

interface Report { same: boolean; changes: { group: string; change: string; before: string[] | null; after: string[] | null; causes: string[] }[];
  notAsLoaded: string[]; causes: string[]; otherChanges: string[] }

describe.each(BACKENDS)('diff on %s', (backend) => {
  let fw: Host;
  useLoneFirewall((h) => { fw = h; });
  const base = 'FAIL2BAN=no\nTRUSTED_NETS=203.0.113.0/24\n';
  const loaded = cli.configs.write(base);
  const edited = cli.configs.write(`${base}SERVICE_SSH_PORTS=2222\nALLOW_PING=yes\nSERVICE_SSH_JAIL_BANTIME=3600\n`);
  const run = (args: string[], config = loaded) => tsfw(cli.path, fw, backend, args, config);


  test('not running: exit 3 for diff and reload --dry-run', async () => {
    for (const args of [['diff'], ['reload', '--dry-run']]) {
      const r = await run(args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/the firewall is not loaded/);
    }
  });

  test('just started: the same, exit 0', async () => {
    await tsfwOk(cli.path, fw, backend, ['start'], loaded);
    const r = await run(['diff']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`tsfirewall diff: the loaded rules are what a reload would load (${backend})`);
  });

  test('an edited config: each difference with its key, grouped; reload --dry-run is the same and changes nothing', async () => {
    await mustExec(fw, isIptables(backend) ? ['ipset', 'add', 'f2b-SSH', '198.51.100.66', 'timeout', '600'] : ['nft', 'add', 'element', 'inet', 'tsfirewall', 'f2b-SSH', '{ 198.51.100.66 timeout 600s }']);
    const before = await wholeRuleset(fw, backend);
    const r = await run(['reload', '--dry-run'], edited);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(await wholeRuleset(fw, backend)).toBe(before);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).toMatch(/^tsfirewall diff: 3 differences between the loaded rules and what a reload would load/);
    expect(r.stdout).toContain('caused by:\n  SERVICE_SSH_PORTS changed 22 -> 2222\n  ALLOW_PING changed no -> yes\n');
    expect(r.stdout).toContain('changed, but no rule differs:\n  SERVICE_SSH_JAIL_BANTIME changed 600 -> 3600\n');
    expect(r.stdout).toMatch(/-- blockers \(bans\) \(tsfw:bans\)\n  ~ changed  \(SERVICE_SSH_PORTS changed 22 -> 2222\)\n {6}- .*22.*\n {6}\+ .*2222/);
    expect(r.stdout).toMatch(/-- icmp \(tsfw:icmp\)\n  \+ added  \(ALLOW_PING changed no -> yes\)\n {6}\+ .*echo-request/);

    const diff = await run(['diff', '--json'], edited);
    expect(diff.exitCode).toBe(1);
    expect(await wholeRuleset(fw, backend)).toBe(before);
    const report = JSON.parse(diff.stdout) as Report;
    expect(report.same).toBe(false);
    // The limited accept is one change however many lines the backend makes of it (xt_recent's two, nft's three).
    expect(report.changes.map((c) => [c.group, c.change, c.causes])).toEqual([
      ['bans', 'changed', ['SERVICE_SSH_PORTS changed 22 -> 2222']],
      ['icmp', 'added', ['ALLOW_PING changed no -> yes']],
      ['services', 'changed', ['SERVICE_SSH_PORTS changed 22 -> 2222']],
    ]);
    expect(report.changes[2]!.after).toHaveLength(isIptables(backend) ? 2 : 3);
    // What diff shows as added is what show prints: the backend's own lines.
    const shown = await tsfwOk(cli.path, fw, backend, ['show'], edited);
    for (const line of report.changes.flatMap((c) => c.after ?? [])) expect(shown).toContain(line.trim());
  });

  test('the address moved: MYIP in words, the address-bound rules changed', async () => {
    await mustExec(fw, ['ip', 'addr', 'del', '192.0.2.10/24', 'dev', 'eth0']);
    await mustExec(fw, ['ip', 'addr', 'add', '192.0.2.11/24', 'dev', 'eth0']);
    await mustExec(fw, ['ip', 'route', 'replace', 'default', 'via', '192.0.2.1']);
    try {
      const r = await run(['diff', '--json']);
      expect(r.exitCode, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.causes).toEqual(['MYIP 192.0.2.10 -> 192.0.2.11']);
      expect(report.changes.map((c) => [c.group, c.change])).toEqual([['antispoof', 'changed'], ['unicast', 'changed']]);
      expect(report.changes.every((c) => c.causes.join() === 'MYIP 192.0.2.10 -> 192.0.2.11')).toBe(true);
    } finally {
      await mustExec(fw, ['ip', 'addr', 'del', '192.0.2.11/24', 'dev', 'eth0']);
      await mustExec(fw, ['ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0']);
      await mustExec(fw, ['ip', 'route', 'replace', 'default', 'via', '192.0.2.1']);
    }
    expect((await run(['diff'])).exitCode).toBe(0);
  });

  test('a rule added from outside is shown for reload to put back; after the reload of the edit, the same again', async () => {
    await mustExec(fw, isIptables(backend)
      ? [tool(backend, 'ipv4'), '-w', '5', '-I', 'tsfw-input', '1', '-p', 'tcp', '--dport', '8080', '-j', 'ACCEPT']
      : ['nft', 'insert', 'rule', 'inet', 'tsfirewall', 'input4', 'tcp', 'dport', '8080', 'accept']);
    const r = await run(['diff']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/not as loaded \(changed from outside; a reload puts it back\):\n {2}.*a rule that is not ours: .*8080/);
    await tsfwOk(cli.path, fw, backend, ['reload'], edited);
    const after = await run(['diff'], edited);
    expect(after.exitCode, after.stdout).toBe(0);
  });
});
