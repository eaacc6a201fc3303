/**
 * Shared pieces of the namespace integration tests: the real CLI run inside a lab host with a config file from a
 * temp dir, the backend's own programs, and readers for what the kernel holds of ours, per backend. Every command
 * goes through `host.exec` (ip netns exec), so nothing ever touches this machine's own network namespace.
 */
import { execa } from 'execa';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { coreHash } from '../../scripts/bundle.mjs';
import { canConnect, createLab, startServer, type Host, type Lab } from '../harness/netns.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';
import { closes as iptablesCloses, nftCloses, nftFamilyView, nftTableBlocks } from '../harness/rulesets.js';

/** The iptables flavours: tsfirewall's own tsfw-* chains in iptables-nft's or the legacy tables, the bans in ipsets. */
export type IptablesBackend = 'iptables-nft' | 'iptables-legacy';
/** The backends as TSFIREWALL_BACKEND names them (the CLI also reads the old "nft" and "legacy"). */
export type BackendName = IptablesBackend | 'nftables';
export const IPTABLES_BACKENDS: readonly IptablesBackend[] = ['iptables-nft', 'iptables-legacy'];
/** The matrix: every test about behaviour runs on each. */
export const BACKENDS: readonly BackendName[] = [...IPTABLES_BACKENDS, 'nftables'];
export type Family = 'ipv4' | 'ipv6';

export const isIptables = (backend: BackendName): backend is IptablesBackend => backend !== 'nftables';

export interface Result { readonly exitCode: number; readonly stdout: string; readonly stderr: string }

const DIST = new URL('../../dist/', import.meta.url).pathname;

/**
 * A private copy of the bundle, so another engineer's `npm run build` (which empties dist/) cannot pull the CLI
 * out from under a running test. Retries a bounded number of times while a build is in progress.
 */
export async function copyCli(): Promise<{ cli: string; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-cli-'));
  for (let attempt = 0; attempt < 240; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      cpSync(DIST, dir, { recursive: true });
      if (bundleComplete(dir)) return { cli: join(dir, 'tsfirewall.cjs'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
    } catch { /* a build is rewriting dist/: try again */ }
    await sleep(250);
  }
  throw new Error(`no complete bundle in ${DIST}: run npm run build`);
}

/** Complete: the entry and the core.cjs it was built with (the entry carries core.cjs's content hash). Files kept
 * apart (winston.cjs...) are written before either. */
function bundleComplete(dir: string): boolean {
  const entry = join(dir, 'tsfirewall.cjs');
  const core = join(dir, 'core.cjs');
  if (!existsSync(entry) || !existsSync(core)) return false;
  return readFileSync(entry, 'utf8').includes(coreHash(readFileSync(core)));
}

const NC = ['/usr/bin/nc', '/bin/nc'].find((p) => existsSync(p));

/**
 * One TCP connect attempt, like the harness's canConnect, but through netcat when it is installed: ~25 ms a probe
 * instead of a Node start-up (~150-500 ms), which is most of these tests' run time. Whole seconds only (nc -w);
 * the default is generous because only probes expected to succeed use it (expected failures pass ~1000).
 */
export async function connects(from: Host, ip: string, port: number, timeoutMs = 3000): Promise<boolean> {
  if (NC === undefined) return canConnect(from, ip, port, timeoutMs);
  const r = await from.exec([NC, '-z', '-w', String(Math.max(1, Math.round(timeoutMs / 1000))), ip, String(port)], { timeoutMs: timeoutMs + 10_000 });
  return r.exitCode === 0;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Config files live in one temp dir per test file; each write gets a fresh name. */
export class ConfigDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsfw-conf-'));
  private count = 0;
  write(text: string): string {
    const path = join(this.dir, `tsfirewall-${++this.count}.conf`);
    writeFileSync(path, text);
    return path;
  }
  dispose(): void { rmSync(this.dir, { recursive: true, force: true }); }
}

/**
 * The set-up every namespace test file shares, registered on the calling file's hooks: a private copy of the bundle
 * (made in beforeAll) and a config dir, both removed in afterAll. Read `path` inside hooks and tests only.
 */
export function useCliCopy(): { readonly path: string; readonly configs: ConfigDir } {
  const configs = new ConfigDir();
  let copy: Awaited<ReturnType<typeof copyCli>> | undefined;
  beforeAll(async () => { copy = await copyCli(); });
  afterAll(() => { copy?.dispose(); configs.dispose(); });
  return {
    configs,
    get path() {
      if (!copy) throw new Error('the CLI copy is made in beforeAll: read its path inside a hook or a test');
      return copy.cli;
    },
  };
}

/**
 * A firewall host alone on the LAN segment (192.0.2.10), for tests about what the kernel holds rather than traffic:
 * made in the calling block's beforeAll, handed to `use`, destroyed in its afterAll.
 */
export function useLoneFirewall(use: (fw: Host) => void): void {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    use(lab.hosts.fw!);
  });
  afterAll(async () => { await lab?.destroy(); });
}

/**
 * Runs `tsfirewall ARGS` inside the host's namespace with the backend forced; `config` is a path for --config. Its
 * run directory (journal, loaded-ruleset record) sits beside the CLI copy and goes with it, not in this machine's /run;
 * so does a state directory per namespace (saved bans, chain-ban expiries), which no other lab host may restore.
 */
export function tsfw(cli: string, host: Host, backend: BackendName, args: readonly string[], config?: string): Promise<Result> {
  const argv = [process.execPath, cli, ...(config === undefined ? [] : ['--config', config]), ...args];
  return host.exec(host.ownFail2ban ? argv : withoutFail2ban(argv), {
    env: { ...tsfwEnv(cli, backend, host.ns), ...(host.ownFail2ban ? { TSFIREWALL_FAIL2BAN_DIR: '/etc/fail2ban' } : {}) },
    timeoutMs: 60_000,
  });
}

/** The environment tsfw() runs the CLI copy in, for a test that starts it itself (a long-running `watch`). */
export const tsfwEnv = (cli: string, backend: BackendName, ns = 'default') => ({
  TSFIREWALL_BACKEND: backend, TSFIREWALL_LOG_LEVEL: 'info', TSFIREWALL_RUN_DIR: join(dirname(cli), 'run'),
  TSFIREWALL_STATE_DIR: join(dirname(cli), `state-${ns}`), TSFIREWALL_FAIL2BAN_DIR: join(dirname(cli), 'fail2ban'),
});

/** tsfw() that must succeed: its stdout, or the test fails naming the command and its stderr. */
export async function tsfwOk(cli: string, host: Host, backend: BackendName, args: readonly string[], config?: string): Promise<string> {
  const r = await tsfw(cli, host, backend, args, config);
  expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The suffix of an iptables flavour's programs (and of the dockerd harness's choice): nft or legacy. */
export const flavour = (backend: IptablesBackend): 'nft' | 'legacy' => (backend === 'iptables-nft' ? 'nft' : 'legacy');

/** An iptables backend's own program: iptables-nft, ip6tables-legacy-save, ... (nftables has one program, nft). */
export const tool = (backend: IptablesBackend, family: Family, suffix: '' | '-save' | '-restore' = '') =>
  `${family === 'ipv4' ? 'iptables' : 'ip6tables'}-${flavour(backend)}${suffix}`;

export async function mustExec(host: Host, argv: readonly string[]): Promise<string> {
  const r = await host.exec(argv, { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed in ${host.ns} (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/** The CLI's name for a namespace (state/dirs.ts netnsTag), which its run directory's per-namespace files carry. */
export async function netnsTag(host: Host): Promise<string> {
  const link = (await mustExec(host, ['readlink', '/proc/self/ns/net'])).trim();
  const m = /\[(\d+)\]/.exec(link);
  if (!m) throw new Error(`no namespace inode in ${link}`);
  return `net-${m[1]}`;
}

/** `iptables-save` of the backend, with the generated-on comments and all counters removed, for comparisons. */
export async function savedRules(host: Host, backend: IptablesBackend, family: Family = 'ipv4'): Promise<string> {
  const text = await mustExec(host, [tool(backend, family, '-save')]);
  return text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]')).join('\n');
}

/** `nft list table inet tsfirewall` (`stateless`: -s, without counters and expires), or '' when there is no table. */
export async function nftTable(host: Host, opts: { readonly stateless?: boolean } = {}): Promise<string> {
  const r = await host.exec(['nft', ...(opts.stateless ? ['-s'] : []), 'list', 'table', 'inet', 'tsfirewall'], { timeoutMs: 30_000 });
  if (r.exitCode === 0) return r.stdout;
  if (/No such file or directory/.test(r.stderr)) return '';
  throw new Error(`nft list table inet tsfirewall failed in ${host.ns} (${r.exitCode}): ${r.stderr}`);
}

/**
 * What the kernel holds of ours for one family, counters and timers aside, as comparable text: iptables-save of the
 * flavour (our chains sit among the built-ins there), or our nft table's blocks of that family (its base chains,
 * its regular chains and sets, helpers and the boot marker; element lists sorted).
 */
export async function ourRules(host: Host, backend: BackendName, family: Family = 'ipv4'): Promise<string> {
  return isIptables(backend) ? savedRules(host, backend, family) : nftFamilyView(await nftTable(host, { stateless: true }), family);
}

/** Both families' ourRules, for "nothing changed" comparisons. */
export async function bothFamilies(host: Host, backend: BackendName): Promise<{ ipv4: string; ipv6: string }> {
  return { ipv4: await ourRules(host, backend, 'ipv4'), ipv6: await ourRules(host, backend, 'ipv6') };
}

/**
 * Packet counter of the one rule of ours in `family` whose line contains every fragment (fails unless exactly one
 * matches): iptables-save -c's `[packets:bytes]`, or the rule's own `counter packets N` in our nft table (a counter
 * inside a set statement, the limiter's, carries no values in the listing).
 */
export async function ruleCounter(host: Host, backend: BackendName, fragments: readonly string[], family: Family = 'ipv4'): Promise<number> {
  const text = isIptables(backend) ? await mustExec(host, [tool(backend, family, '-save'), '-c']) : nftFamilyView(await nftTable(host), family);
  const isRule = isIptables(backend) ? (l: string) => l.includes('-A ') : (l: string) => /\bcounter packets \d+ bytes \d+\b/.test(l);
  const lines = text.split('\n').filter((l) => isRule(l) && fragments.every((f) => l.includes(f)));
  if (lines.length !== 1) throw new Error(`expected one rule with ${fragments.join(' & ')}, found ${lines.length}:\n${text}`);
  const m = (isIptables(backend) ? /^\[(\d+):\d+\]/ : /\bcounter packets (\d+) bytes \d+\b/).exec(lines[0]!);
  if (!m) throw new Error(`no counter on ${lines[0]}`);
  return Number(m[1]);
}

/** True when the text (iptables-save, or our nft table's listing) holds rules written by tsfirewall. */
export const hasOurRules = (text: string) => /--comment "?tsfw:|\bcomment "tsfw:/.test(text);

/**
 * True when `text` (ourRules of that family) closes `builtin` the backend's way, without touching a policy anyone
 * shares: iptables' marked jump into our chain ending in our DROP; nftables' base chain dispatching the family to
 * its chain (input4...) ending in the tsfw:policy drop.
 */
export function closes(backend: BackendName, text: string, builtin = 'INPUT', family: Family = 'ipv4'): boolean {
  return isIptables(backend) ? iptablesCloses(text, builtin) : nftCloses(text, builtin, family);
}

/** Whether any backend holds rules of ours in this namespace: both iptables flavours (both families) and our table. */
export async function holders(host: Host): Promise<BackendName[]> {
  const found: BackendName[] = [];
  for (const b of IPTABLES_BACKENDS) {
    const both = await bothFamilies(host, b);
    if (hasOurRules(both.ipv4) || hasOurRules(both.ipv6)) found.push(b);
  }
  if ((await nftTable(host)) !== '') found.push('nftables');
  return found;
}

/**
 * How a rule of ours spells a match, per backend: iptables-save's `-s 192.0.2.10/32` is nft's `ip saddr
 * 192.0.2.10` (host prefixes dropped, as nft prints them). For ruleCounter fragments and toContain checks.
 */
export const spell = {
  src: (backend: BackendName, cidr: string) => (isIptables(backend) ? `-s ${hostPrefix(cidr)}` : `${ipWord(cidr)} saddr ${noHostPrefix(cidr)}`),
  notDst: (backend: BackendName, cidr: string) => (isIptables(backend) ? `! -d ${hostPrefix(cidr)}` : `${ipWord(cidr)} daddr != ${noHostPrefix(cidr)}`),
  /** The boot-time ruleset's empty marker chain, in the saved (or restore) text and in our table (or `show`). */
  bootMarker: (backend: BackendName) => (isIptables(backend) ? /^:tsfw-boot - \[0:0\]$/m : /^\tchain tsfw-boot \{$/m),
  /** The group marker as the backend prints it. */
  group: (backend: BackendName, group: string) => (isIptables(backend) ? `--comment "tsfw:${group}"` : `comment "tsfw:${group}"`),
};
const ipWord = (cidr: string) => (cidr.includes(':') ? 'ip6' : 'ip');
const hostPrefix = (cidr: string) => (cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`);
const noHostPrefix = (cidr: string) => cidr.replace(/\/(32|128)$/, '');

/** The ban set (or, in chain mode on iptables, the chain) of a jail for a family: f2b-SSH, f2b6-SSH, fail2ban-SSH. */
export const banSetName = (family: Family, name = 'SSH') => `${family === 'ipv4' ? 'f2b-' : 'f2b6-'}${name}`;

export interface BanSpec {
  readonly ip: string;
  readonly mode: 'ipset' | 'chain';
  /** Seconds; absent: until removed (a chain rule always is). */
  readonly timeout?: number;
  readonly name?: string;
}

const familyOf = (ip: string): Family => (ip.includes(':') ? 'ipv6' : 'ipv4');

/**
 * Puts a ban straight into the kernel as fail2ban's action would, behind tsfirewall's back: an ipset entry or a
 * DROP rule in the ban chain on iptables, an element of the ban set on nftables (where chain mode's bans live too).
 */
export async function addBan(host: Host, backend: BackendName, ban: BanSpec): Promise<void> {
  const family = familyOf(ban.ip);
  const timeout = ban.timeout === undefined ? [] : ['timeout', String(ban.timeout)];
  if (!isIptables(backend)) {
    await mustExec(host, ['nft', 'add', 'element', 'inet', 'tsfirewall', banSetName(family, ban.name), `{ ${ban.ip}${ban.timeout === undefined ? '' : ` timeout ${ban.timeout}s`} }`]);
  } else if (ban.mode === 'ipset') {
    await mustExec(host, ['ipset', 'add', banSetName(family, ban.name), ban.ip, ...timeout]);
  } else {
    await mustExec(host, [tool(backend, family), '-w', '5', '-A', `fail2ban-${ban.name ?? 'SSH'}`, '-s', ban.ip, '-j', 'DROP']);
  }
}

/** Removes what addBan put in (the entry must be there). */
export async function removeBan(host: Host, backend: BackendName, ban: BanSpec): Promise<void> {
  const family = familyOf(ban.ip);
  if (!isIptables(backend)) await mustExec(host, ['nft', 'delete', 'element', 'inet', 'tsfirewall', banSetName(family, ban.name), `{ ${ban.ip} }`]);
  else if (ban.mode === 'ipset') await mustExec(host, ['ipset', 'del', banSetName(family, ban.name), ban.ip]);
  else await mustExec(host, [tool(backend, family), '-w', '5', '-D', `fail2ban-${ban.name ?? 'SSH'}`, '-s', ban.ip, '-j', 'DROP']);
}

/** Every ban set the kernel holds, whole: `ipset save`, or our nft table's sets (-s: no timers), for "unchanged". */
export async function kernelBans(host: Host, backend: BackendName): Promise<string> {
  if (isIptables(backend)) return mustExec(host, ['ipset', 'save']);
  return (nftTableBlocks(await nftTable(host, { stateless: true })) ?? []).filter((b) => b.kind === 'set').map((b) => `${b.name}: ${b.lines.join('; ')}\n`).join('');
}

/** The kernel's own listing of a jail's bans for a family: `ipset list`, `iptables -S fail2ban-NAME`, `nft list set`. */
export async function banListing(host: Host, backend: BackendName, family: Family, mode: 'ipset' | 'chain', name = 'SSH'): Promise<string> {
  if (!isIptables(backend)) return mustExec(host, ['nft', 'list', 'set', 'inet', 'tsfirewall', banSetName(family, name)]);
  return mode === 'ipset' ? mustExec(host, ['ipset', 'list', banSetName(family, name)]) : mustExec(host, [tool(backend, family), '-S', `fail2ban-${name}`]);
}

/** A listener that answers each connection with the address it came from (to see SNAT at work). */
export async function listenPeer(host: Host, port: number, lifetimeMs = 300_000): Promise<() => void> {
  const code = `require('net').createServer(s=>{s.on('error',()=>{});s.end(s.remoteAddress+'\\n')}).listen(${port},'0.0.0.0',()=>console.log('ready'));` +
    `setTimeout(()=>process.exit(0),${lifetimeMs})`;
  return startServer(host, code, 'peer listener');
}

/** Connects from `from`, returns what the server sent before closing, or undefined on failure/timeout. */
export async function fetchText(from: Host, ip: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  const code = `let d='';const s=require('net').connect({host:${JSON.stringify(ip)},port:${port}});` +
    `s.on('data',c=>d+=c);s.on('end',()=>{process.stdout.write(d);process.exit(0)});s.on('error',()=>process.exit(1));` +
    `setTimeout(()=>process.exit(2),${timeoutMs})`;
  const r = await from.exec([process.execPath, '-e', code], { timeoutMs: timeoutMs + 10_000 });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** A listener that echoes what it receives and keeps the connection open (for sessions that outlive a ban). */
export async function listenEcho(host: Host, port: number, lifetimeMs = 300_000): Promise<() => void> {
  const code = `require('net').createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(${port},'0.0.0.0',()=>console.log('ready'));` +
    `setTimeout(()=>process.exit(0),${lifetimeMs})`;
  return startServer(host, code, 'echo listener');
}

export interface Session {
  /** Sends one line and waits (bounded) for it to come back; false when it did not. */
  roundTrip(line: string, timeoutMs?: number): Promise<boolean>;
  close(): void;
}

/** Opens one long-lived TCP connection from `from` to an echo listener; lines go through the client's stdin. */
export async function openSession(from: Host, ip: string, port: number, lifetimeMs = 120_000): Promise<Session> {
  const code = `const s=require('net').connect({host:${JSON.stringify(ip)},port:${port}});` +
    `s.on('connect',()=>console.log('connected'));s.on('data',d=>process.stdout.write(d));s.on('error',()=>process.exit(1));` +
    `process.stdin.on('data',d=>s.write(d));setTimeout(()=>process.exit(0),${lifetimeMs})`;
  const child = execa('ip', ['netns', 'exec', from.ns, process.execPath, '-e', code], { reject: false, stdin: 'pipe' });
  let received = '';
  child.stdout?.on('data', (d: Buffer) => { received += d.toString(); });
  const waitFor = async (text: string, timeoutMs: number) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      if (received.includes(text)) return true;
      await sleep(20);
    }
    return received.includes(text);
  };
  if (!(await waitFor('connected', 5000))) { child.kill('SIGKILL'); throw new Error(`no session to ${ip}:${port}`); }
  return {
    roundTrip: async (line, timeoutMs = 1000) => { child.stdin?.write(`${line}\n`); return waitFor(`${line}\n`, timeoutMs); },
    close: () => { child.kill('SIGKILL'); },
  };
}

/**
 * A minimal FTP control server on port 21: greets, answers PASV with `ip` and `dataPort`, and serves "data" on the
 * data port. Enough for the kernel's FTP connection-tracking helper to expect the passive data connection.
 */
export async function listenFtp(host: Host, ip: string, dataPort: number, lifetimeMs = 300_000): Promise<() => void> {
  const pasv = `227 Entering Passive Mode (${ip.split('.').join(',')},${dataPort >> 8},${dataPort & 255})`;
  const code = `const net=require('net');let n=0;const ready=()=>{if(++n===2)console.log('ready')};` +
    `net.createServer(d=>{d.on('error',()=>{});d.end('data\\n')}).listen(${dataPort},'0.0.0.0',ready);` +
    `net.createServer(s=>{s.on('error',()=>{});s.write('220 tsfw test\\r\\n');s.on('data',b=>{if(String(b).startsWith('PASV'))s.write(${JSON.stringify(pasv + '\r\n')})})}).listen(21,'0.0.0.0',ready);` +
    `setTimeout(()=>process.exit(0),${lifetimeMs})`;
  return startServer(host, code, 'ftp listener');
}

/** A passive-mode FTP exchange from `from`: true when the data connection the server offered opened and delivered. */
export async function ftpPassive(from: Host, ip: string, timeoutMs = 2000): Promise<boolean> {
  const code = `const net=require('net');const c=net.connect(21,${JSON.stringify(ip)});let buf='',asked=false,opened=false;` +
    `c.on('error',()=>process.exit(1));c.on('data',b=>{buf+=b;if(!asked&&buf.includes('220')){asked=true;c.write('PASV\\r\\n')}` +
    `const m=/\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)/.exec(buf);if(m&&!opened){opened=true;` +
    `const d=net.connect(Number(m[5])*256+Number(m[6]),m.slice(1,5).join('.'));d.on('data',()=>process.exit(0));d.on('error',()=>process.exit(3))}});` +
    `setTimeout(()=>process.exit(2),${timeoutMs})`;
  const r = await from.exec([process.execPath, '-e', code], { timeoutMs: timeoutMs + 10_000 });
  return r.exitCode === 0;
}

