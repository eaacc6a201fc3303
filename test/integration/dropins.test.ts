/**
 * Issue 16, item 1: drop-in config and raw snippets, once per backend, proved with real connections from other
 * namespaces. The main config opens only SSH; a drop-in adds web; snippets accept 8080 and drop 80 from the world
 * before the services, try (too late) to drop 80 from the LAN and accept 8443 after them, redirect 8081 to 80 in nat,
 * and untrack 9001 in raw so that only an "untracked" accept lets it in. A snippet the backend's own check refuses
 * stops the reload, names its file and line, and leaves the kernel as it was; status holds the snippets' rules to
 * what was loaded (a deleted one is named) and says when a snippet changed since.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FW_AND_NEIGHBOURS, createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, bothFamilies, connects, isIptables, mustExec, tool, tsfw, tsfwOk, useCliCopy, type BackendName } from './helpers.js';

const cli = useCliCopy();
const MYIP = '192.0.2.10';

/** The same snippets in each language: name -> text. */
const SNIPPETS: Readonly<Record<'nft' | 'iptables', Readonly<Record<string, string>>>> = {
  nft: {
    '10-web.before.nft': 'chain input {\n\ttcp dport 8080 accept\n\tip saddr 198.51.100.20 tcp dport 80 counter drop\n\tct state untracked tcp dport 9001 accept\n}\n',
    '20-late.after.nft': '# too late for port 80: the services accepted it already\nchain input {\n\tip saddr 192.0.2.20 tcp dport 80 drop\n\ttcp dport 8443 accept\n}\n',
    '30-redirect.nat.nft': 'chain prerouting {\n\ttcp dport 8081 redirect to :80\n}\n',
    '40-untracked.raw.nft': 'chain prerouting {\n\ttcp dport 9001 notrack\n}\n',
  },
  iptables: {
    '10-web.before.rules': '-A INPUT -p tcp --dport 8080 -j ACCEPT\n-A INPUT -s 198.51.100.20 -p tcp --dport 80 -j DROP\n' +
      '-A INPUT -p tcp --dport 9001 -m conntrack --ctstate UNTRACKED -j ACCEPT\n',
    '20-late.after.rules': '# too late for port 80: the services accepted it already\n-A INPUT -s 192.0.2.20 -p tcp --dport 80 -j DROP\n' +
      '-A INPUT -p tcp --dport 8443 -j ACCEPT\n',
    '30-redirect.nat.rules': '-A PREROUTING -p tcp --dport 8081 -j REDIRECT --to-ports 80\n',
    '40-untracked.raw.rules': '-A PREROUTING -p tcp --dport 9001 -j NOTRACK\n',
  },
};
/** A rule each tool refuses that the shape check lets through: only the backend's own check can catch it. */
const BAD: Readonly<Record<'nft' | 'iptables', readonly [string, string, number]>> = {
  nft: ['60-bad.before.nft', 'chain input {\n\ttcp dport 81 accept\n\ttcp dport 82 acept\n}\n', 3],
  iptables: ['60-bad.before.rules', '-A INPUT -p tcp --dport 81 -j ACCEPT\n-A INPUT -p tcp --dprt 82 -j ACCEPT\n', 2],
};

const syntaxOf = (b: BackendName): 'nft' | 'iptables' => (isIptables(b) ? 'iptables' : 'nft');

/** Deletes the one snippet rule of ours from 10-web's first line, behind tsfirewall's back. */
async function deleteSnippetRule(fw: Host, backend: BackendName): Promise<void> {
  if (isIptables(backend)) {
    const saved = await mustExec(fw, [tool(backend, 'ipv4', '-save')]);
    const line = saved.split('\n').find((l) => l.includes('tsfw:snippet:10-web.before.rules:1'))!;
    await mustExec(fw, [tool(backend, 'ipv4'), '-w', '5', ...line.replace(/^-A /, '-D ').split(' ').map((w) => w.replace(/^"(.*)"$/, '$1'))]);
    return;
  }
  const listing = await mustExec(fw, ['nft', '-a', 'list', 'chain', 'inet', 'tsfirewall', 'input4']);
  const handle = /tsfw:snippet:10-web\.before\.nft:2" # handle (\d+)/.exec(listing)![1]!;
  await mustExec(fw, ['nft', 'delete', 'rule', 'inet', 'tsfirewall', 'input4', 'handle', handle]);
}

describe.each(BACKENDS)('drop-ins and raw snippets on %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let lan: Host;
  let out: Host;
  let stop: (() => void) | undefined;
  const syntax = syntaxOf(backend);
  const config = cli.configs.write('FAIL2BAN=no\nSERVICES=ssh\n');
  const dir = `${config}.d`;
  const run = (args: readonly string[]) => tsfw(cli.path, fw, backend, args, config);

  beforeAll(async () => {
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(`${dir}/50-web.conf`, '# a drop-in opens the web ports the main file leaves closed\nSERVICES=ssh web\n');
    for (const [name, text] of Object.entries(SNIPPETS[syntax])) writeFileSync(`${dir}/${name}`, text);
    lab = await createLab(FW_AND_NEIGHBOURS);
    fw = lab.hosts.fw!;
    lan = lab.hosts.lan!;
    out = lab.hosts.out!;
    stop = await listen(fw, [80, 8080, 8443, 8444, 9001]);
  });
  afterAll(async () => {
    stop?.();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('show --sources names the drop-in that set each key', async () => {
    const text = await tsfwOk(cli.path, fw, backend, ['show', '--sources'], config);
    expect(text).toContain(`SERVICES=ssh web\t# ${dir}/50-web.conf:2 (overrides ${config}:2)`);
    expect(text).toContain(`FAIL2BAN=no\t# ${config}:1`);
    for (const name of Object.keys(SNIPPETS[syntax])) expect(text).toContain(`${dir}/${name}\t# `);
  });

  test('start loads the drop-in and places each snippet: real connections say where', async () => {
    await tsfwOk(cli.path, fw, backend, ['start'], config);
    expect(await connects(lan, MYIP, 80), 'web, opened by the drop-in').toBe(true);
    expect(await connects(out, MYIP, 8080), 'before: 8080 accepted').toBe(true);
    expect(await connects(out, MYIP, 80, 1000), 'before: the world dropped from 80 ahead of the services').toBe(false);
    expect(await connects(lan, MYIP, 8443), 'after: 8443 accepted').toBe(true);
    expect(await connects(lan, MYIP, 80), 'after: too late to drop the LAN from 80').toBe(true);
    expect(await connects(lan, MYIP, 8081), 'nat: 8081 redirected to 80 (nothing listens on 8081)').toBe(true);
    expect(await connects(lan, MYIP, 9001), 'raw: 9001 untracked before conntrack, so the untracked accept lets it in').toBe(true);
    expect(await connects(out, MYIP, 8444, 1000), 'the policy still drops the rest').toBe(false);
  });

  test('status counts the snippets as ours: running, each rule listed with its group', async () => {
    const r = await run(['status']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tsfirewall: running/);
    expect(r.stdout).toContain('-- raw snippets (drop-in rules)');
    expect(r.stdout).not.toContain('pending:');
  });

  test('a snippet the backend refuses stops the reload, names its file and line, and changes nothing', async () => {
    const before = await bothFamilies(fw, backend);
    const [name, text, line] = BAD[syntax];
    writeFileSync(`${dir}/${name}`, text);
    try {
      const r = await run(['reload']);
      expect(r.exitCode, r.stderr).toBe(6);
      expect(r.stderr).toContain(`the snippet ${name}, line ${line}`);
      expect(r.stderr).toMatch(/nothing was changed|the previous ruleset was restored/);
      expect(await bothFamilies(fw, backend)).toEqual(before);
      expect(await connects(out, MYIP, 8080), 'the loaded rules still filter').toBe(true);
      const check = await run(['check']);
      expect(check.exitCode).toBe(6);
      expect(check.stderr).toContain(`the snippet ${name}, line ${line}`);
    } finally {
      rmSync(`${dir}/${name}`);
    }
  });

  test('a snippet rule deleted from outside is named by status; an edited snippet is pending until a reload', async () => {
    await deleteSnippetRule(fw, backend);
    const tampered = await run(['status']);
    expect(tampered.exitCode).toBe(1);
    expect(tampered.stdout).toMatch(/tsfw:snippet rules? ending in .* is gone|1 of 3 tsfw:snippet/);
    await tsfwOk(cli.path, fw, backend, ['reload'], config);
    expect((await run(['status'])).exitCode).toBe(0);
    const [name, text] = Object.entries(SNIPPETS[syntax]).find(([n]) => n.startsWith('20-'))!;
    writeFileSync(`${dir}/${name}`, text + (syntax === 'nft' ? 'chain input {\n\ttcp dport 8444 accept\n}\n' : '-A INPUT -p tcp --dport 8444 -j ACCEPT\n'));
    expect((await run(['status'])).stdout).toContain('pending: the config changed since the rules were loaded');
    await tsfwOk(cli.path, fw, backend, ['reload'], config);
    expect((await run(['status'])).stdout).not.toContain('pending:');
    expect(await connects(out, MYIP, 8444), 'the edited snippet is what filters now').toBe(true);
  });

  test('stop removes the snippets with the rest', async () => {
    await tsfwOk(cli.path, fw, backend, ['stop'], config);
    const left = await bothFamilies(fw, backend);
    expect(left.ipv4).not.toContain('tsfw:');
    expect(left.ipv6).not.toContain('tsfw:');
  });
});
