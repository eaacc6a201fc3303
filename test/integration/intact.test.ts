/**
 * Issue 14, item 10: status said "running" (exit 0) while an outside flush had left the host open, because any rule
 * marked as ours counted as loaded; `reload --if-changed` answered "rules up to date"; and a foreign ACCEPT inserted
 * before our jump, which makes our whole ruleset moot for its source, was listed without a word. Now status compares
 * the live ruleset with the record of what was loaded and exits 1 (state "tampered") naming what is missing or
 * foreign; `reload --if-changed` repairs it; and the address watcher notices by itself and repairs it. Once per
 * backend, with real connections from another namespace proving the host really was open, and closed again.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { until } from '../harness/poll.js';
import { connects, mustExec, sleep, tsfw, tsfwEnv, useCliCopy, type BackendName, BACKENDS } from './helpers.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';

type Backend = BackendName;

const MYIP = '192.0.2.10';
const CLOSED = 23; // listening on the firewall, not opened by the config
const OUT = '198.51.100.20';

const cli = useCliCopy();
const { configs } = cli;

interface Status { readonly exitCode: number; readonly state: string; readonly problems: readonly string[]; readonly text: string }

/** What an outside hand does to each backend's rules, and the problem status must name for it. */
interface Tampering {
  readonly flush: readonly (readonly string[])[];
  readonly flushed: RegExp;
  readonly foreign: readonly (readonly string[])[];
  readonly foreignNamed: RegExp;
}

const ipt = (b: BackendName, ...args: string[]) => [b, '-w', '5', ...args];
const TAMPERING = Object.fromEntries(BACKENDS.map((b): [Backend, Tampering] => [b, b === 'nftables'
  ? {
    flush: [['nft', 'flush', 'chain', 'inet', 'tsfirewall', 'input4']],
    flushed: /^chain input4: emptied, its \d+ rules of ours are gone$/,
    foreign: [['nft', 'insert', 'rule', 'inet', 'tsfirewall', 'input4', 'ip', 'saddr', OUT, 'accept']],
    foreignNamed: /^chain input4: a rule that is not ours: ip saddr 198\.51\.100\.20 accept$/,
  }
  : {
    flush: [ipt(b, '-F'), ipt(b, '-P', 'INPUT', 'ACCEPT')],
    flushed: /^IPv4 chain INPUT: our jump into tsfw-input is gone$/,
    foreign: [ipt(b, '-I', 'INPUT', '1', '-s', OUT, '-j', 'ACCEPT')],
    foreignNamed: /^IPv4 chain INPUT: a rule that is not ours comes before our jump into tsfw-input: -s 198\.51\.100\.20\/32 -j ACCEPT$/,
  }])) as Readonly<Record<Backend, Tampering>>;

describe.each(BACKENDS)('the loaded rules, whole or not, on %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let out: Host;
  let stopListening: (() => void) | undefined;
  const tamper = TAMPERING[backend];
  const config = configs.write('FAIL2BAN=no\nBAN_MODE=ipset\nSERVICES=ssh web\n');
  const run = (args: readonly string[]) => tsfw(cli.path, fw, backend as BackendName, args, config);
  const status = async (): Promise<Status> => {
    const [text, json] = await Promise.all([run(['status']), run(['status', '--json'])]);
    const parsed = JSON.parse(json.stdout) as { state: string; problems?: string[] };
    expect(json.exitCode, 'status and status --json agree').toBe(text.exitCode);
    return { exitCode: text.exitCode, state: parsed.state, problems: parsed.problems ?? [], text: text.stdout };
  };
  const outside = async (commands: readonly (readonly string[])[]) => { for (const argv of commands) await mustExec(fw, argv); };
  const closedFromOut = async () => !(await connects(out, MYIP, CLOSED, 1000));
  const intactNow = async () => (await run(['status'])).exitCode === 0;

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'out', segment: 'wan', octet: 20 }]);
    ({ fw, out } = lab.hosts as Record<'fw' | 'out', Host>);
    stopListening = await listen(fw, [CLOSED, 80]);
    const r = await run(['start']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
  afterAll(async () => { stopListening?.(); await lab?.destroy(); });

  test('right after start the rules are whole: running, exit 0, no problems; a ban added meanwhile changes nothing', async () => {
    const ban = backend === 'nftables'
      ? ['nft', 'add', 'element', 'inet', 'tsfirewall', 'f2b-SSH', '{', '198.51.100.99', '}']
      : ['ipset', 'add', 'f2b-SSH', '198.51.100.99'];
    await mustExec(fw, ban);
    const s = await status();
    expect(s).toMatchObject({ exitCode: 0, state: 'running', problems: [] });
    expect(await closedFromOut()).toBe(true);
  });

  test('an outside flush opens the host: status exits 1, "tampered", naming what is gone; reload --if-changed puts it back', async () => {
    await outside(tamper.flush);
    expect(await connects(out, MYIP, CLOSED)).toBe(true);
    const s = await status();
    expect(s.exitCode, s.text).toBe(1);
    expect(s.state).toBe('tampered');
    expect(s.problems).toEqual(expect.arrayContaining([expect.stringMatching(tamper.flushed)]));
    expect(s.text).toMatch(/^tsfirewall: tampered \(/);
    for (const p of s.problems) expect(s.text).toContain(p);
    const r = await run(['reload', '--if-changed']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/not intact.*reloading/);
    expect(r.stdout).toMatch(/^firewall reloaded: /m);
    expect(await status()).toMatchObject({ exitCode: 0, state: 'running', problems: [] });
    expect(await closedFromOut()).toBe(true);
  });

  test('the final drop removed by hand is named', async () => {
    const remove = backend === 'nftables'
      ? ['nft', 'delete', 'rule', 'inet', 'tsfirewall', 'input4', 'handle', await handleOf(fw, 'input4', /comment "tsfw:policy"/)]
      : ipt(backend, '-D', 'tsfw-input', '-m', 'comment', '--comment', 'tsfw:policy', '-j', 'DROP');
    await outside([remove]);
    const s = await status();
    expect(s.exitCode).toBe(1);
    expect(s.problems).toEqual([backend === 'nftables'
      ? 'chain input4: the final drop (tsfw:policy) is gone'
      : 'IPv4 chain tsfw-input: the final DROP (tsfw:policy) is gone']);
    expect((await run(['reload', '--if-changed'])).exitCode).toBe(0);
    expect((await status()).exitCode).toBe(0);
  });

  test('a foreign ACCEPT where it makes our rules moot is named; reload --if-changed puts our rules first again', async () => {
    await outside(tamper.foreign);
    expect(await connects(out, MYIP, CLOSED)).toBe(true);
    const s = await status();
    expect(s.exitCode, s.text).toBe(1);
    expect(s.problems).toEqual([expect.stringMatching(tamper.foreignNamed)]);
    expect((await run(['reload', '--if-changed'])).exitCode).toBe(0);
    expect(await status()).toMatchObject({ exitCode: 0, problems: [] });
    expect(await closedFromOut()).toBe(true);
    if (backend !== 'nftables') {
      // The other tool's rule is still there, after our jump now, where our drop comes first: not a problem.
      const input = await mustExec(fw, [`${backend}-save`, '-t', 'filter']);
      expect(input).toMatch(/-A INPUT -m comment --comment "?tsfw:jump"? -j tsfw-input\n-A INPUT -s 198\.51\.100\.20\/32 -j ACCEPT\n/);
      await outside([ipt(backend, '-D', 'INPUT', '-s', OUT, '-j', 'ACCEPT')]);
    }
  });

  if (backend === 'nftables') {
    test('the dispatch into the family chains deleted by hand is named', async () => {
      await outside([['nft', 'delete', 'rule', 'inet', 'tsfirewall', 'input', 'handle', await handleOf(fw, 'input', /vmap/)]]);
      expect(await connects(out, MYIP, CLOSED)).toBe(true);
      const s = await status();
      expect(s.exitCode).toBe(1);
      expect(s.problems).toEqual(['chain input: the dispatch (meta nfproto vmap { ipv4 : jump input4, ipv6 : jump input6 }) is gone']);
      expect((await run(['reload', '--if-changed'])).exitCode).toBe(0);
      expect((await status()).exitCode).toBe(0);
    });
  }

  test('the watcher notices an outside flush, and a foreign ACCEPT before our rules, and repairs both by itself', async () => {
    const child = spawn('ip', ['netns', 'exec', fw.ns, ...withoutFail2ban([process.execPath, cli.path, '--config', config, 'watch'])], {
      env: { ...process.env, ...tsfwEnv(cli.path, backend as BackendName) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const found = () => (output.match(/changed from outside/g) ?? []).length;
    // The watcher logs a repair once its reload has exited (status does not judge while a reload is running).
    const repaired = () => (output.match(/repairing: .*firewall reloaded: /g) ?? []).length;
    try {
      await until('the watcher to start', async () => output.includes('the rules are guarded'), 30);
      await outside(tamper.flush);
      await until('the watcher to find the flush', async () => found() >= 1, 60);
      expect(output).toMatch(new RegExp(`changed from outside: .*${tamper.flushed.source.slice(1, -1)}`));
      await until('the watcher to repair the rules', async () => repaired() >= 1, 60);
      expect(await intactNow()).toBe(true);
      expect(await closedFromOut()).toBe(true);
      await outside(tamper.foreign);
      await until('the watcher to find the foreign rule', async () => found() >= 2, 60);
      expect(output).toMatch(new RegExp(`changed from outside: .*${tamper.foreignNamed.source.slice(1, -1)}`));
      await until('the watcher to repair the rules again', async () => repaired() >= 2, 60);
      expect(await intactNow()).toBe(true);
      expect(await closedFromOut()).toBe(true);
      expect(found(), output).toBe(2);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await Promise.race([exited, sleep(20_000).then(() => 'still running')])).toBe(0);
  });

  test('stop opens the host and forgets the record: stopped, exit 3, nothing to judge', async () => {
    expect((await run(['stop'])).exitCode).toBe(0);
    expect(await status()).toMatchObject({ exitCode: 3, state: 'stopped', problems: [] });
  });
});

/** The handle nft gave the one rule of `chain` that matches `line` (`nft -a` prints it as "# handle N"). */
async function handleOf(fw: Host, chain: string, line: RegExp): Promise<string> {
  const listing = await mustExec(fw, ['nft', '-a', 'list', 'chain', 'inet', 'tsfirewall', chain]);
  const found = listing.split('\n').filter((l) => line.test(l)).map((l) => /# handle (\d+)$/.exec(l)?.[1]);
  if (found.length !== 1 || found[0] === undefined) throw new Error(`expected one rule like ${line} in ${chain}:\n${listing}`);
  return found[0];
}
