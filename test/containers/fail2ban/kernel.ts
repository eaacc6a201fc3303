/**
 * What the fail2ban container test reads from the firewall container's kernel, once per backend: the same questions
 * (is this address in the SSH ban set, with what time left; how many packets did the ban rule drop; is anything of
 * ours left after stop) answered by the backend's own tool, so the test body stays one for all backends.
 */
import { exec, type StartedTestContainer } from '../../harness/container.js';

/** The backends the test runs on: Debian 12's iptables (the nft flavour) and native nftables. */
export type Fail2banBackend = 'iptables-nft' | 'nftables';
export const FAIL2BAN_BACKENDS: readonly Fail2banBackend[] = ['iptables-nft', 'nftables'];

/** One ban entry as the kernel holds it: seconds left, and the timeout it was given where the tool keeps that. */
export interface KernelBan { readonly left?: number; readonly timeout?: number }

export interface KernelView {
  /** The fail2ban action file tsfirewall writes for this backend, and the jail's action line it names. */
  readonly actionFile: string;
  readonly jailAction: RegExp;
  /** The entry for `ip` in the set f2b-SSH, or undefined when it is not there. */
  ban(ip: string): Promise<KernelBan | undefined>;
  /** How many entries f2b-SSH holds. */
  setSize(): Promise<number>;
  /** Packets the SSH ban rule (`tsfw:bans`, the lookup of f2b-SSH) dropped so far. */
  banDrops(): Promise<number>;
  /** BAN_MODE=chain: `ip` is banned where that mode puts bans on this backend. */
  chainBanned(ip: string): Promise<boolean>;
  /** After stop: every line of ours the kernel still holds (empty when none). */
  leftovers(): Promise<string[]>;
  /** While running: lines of ours in the other backend's tools (empty: this backend alone holds the firewall). */
  elsewhere(): Promise<string[]>;
}

async function out(c: StartedTestContainer, argv: string[], allowed: readonly number[] = [0]): Promise<string> {
  const r = await exec(c, argv, 60_000);
  if (!allowed.includes(r.exitCode)) throw new Error(`${argv.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

/** Lines of ours in iptables and ipset: our chains, marked rules and ban sets. */
async function inIptables(c: StartedTestContainer): Promise<string[]> {
  const rules = (await out(c, ['iptables-save'])).split('\n').filter((l) => /fail2ban-SSH|f2b-SSH|tsfw/.test(l));
  const sets = (await out(c, ['ipset', 'list', '-n'])).split('\n').filter((l) => /f2b-SSH/.test(l));
  return [...rules, ...sets];
}

/** Our table, as `nft list tables` names it. */
const inNft = async (c: StartedTestContainer) => (await out(c, ['nft', 'list', 'tables'])).split('\n').filter((l) => /tsfirewall/.test(l));

const escaped = (ip: string) => ip.replace(/\./g, '\\.');

/** The one line of `text` holding every fragment; a test that finds none or several is told which. */
function oneLine(text: string, fragments: readonly string[]): string {
  const lines = text.split('\n').filter((l) => fragments.every((f) => l.includes(f)));
  if (lines.length !== 1) throw new Error(`expected one line with ${fragments.join(' & ')}, found ${lines.length}:\n${text}`);
  return lines[0]!;
}

function ipsetView(c: StartedTestContainer): KernelView {
  return {
    actionFile: '/etc/fail2ban/action.d/tsfirewall-ipset.conf',
    jailAction: /^action {3}= tsfirewall-ipset\[name=SSH, ipsettime=(\d+|<bantime>)\]$/m,
    async ban(ip) {
      const m = new RegExp(`^${escaped(ip)}(?: timeout (\\d+))?$`, 'm').exec(await out(c, ['ipset', 'list', 'f2b-SSH']));
      return m ? { left: m[1] === undefined ? undefined : Number(m[1]) } : undefined;
    },
    async setSize() {
      return Number(/^Number of entries: (\d+)$/m.exec(await out(c, ['ipset', 'list', '-t', 'f2b-SSH']))?.[1]);
    },
    async banDrops() {
      const line = oneLine(await out(c, ['iptables-save', '-c', '-t', 'filter']), ['--match-set f2b-SSH src', 'tsfw:bans', '-j DROP']);
      return Number(/^\[(\d+):\d+\]/.exec(line)![1]);
    },
    async chainBanned(ip) {
      return (await out(c, ['iptables', '-S', 'fail2ban-SSH'])).includes(`-A fail2ban-SSH -s ${ip}/32 -j DROP`);
    },
    leftovers: async () => [...(await inIptables(c)), ...(await inNft(c))],
    elsewhere: () => inNft(c),
  };
}

interface NftSetJson { nftables: { set?: { name: string; elem?: (string | { elem: { val: string; timeout?: number; expires?: number } })[] } }[] }

function nftView(c: StartedTestContainer): KernelView {
  const elements = async () => {
    const json = JSON.parse(await out(c, ['nft', '-j', 'list', 'set', 'inet', 'tsfirewall', 'f2b-SSH'])) as NftSetJson;
    const set = json.nftables.find((o) => o.set?.name === 'f2b-SSH')?.set;
    if (!set) throw new Error('nft -j list set printed no set f2b-SSH');
    return (set.elem ?? []).map((e) => (typeof e === 'string' ? { val: e } : e.elem));
  };
  return {
    actionFile: '/etc/fail2ban/action.d/tsfirewall-nftables.conf',
    jailAction: /^action {3}= tsfirewall-nftables\[name=SSH, ipsettime=(\d+|<bantime>)\]$/m,
    async ban(ip) {
      const e = (await elements()).find((x) => x.val === ip);
      return e ? { left: e.expires, timeout: e.timeout } : undefined;
    },
    async setSize() {
      return (await elements()).length;
    },
    async banDrops() {
      const line = oneLine(await out(c, ['nft', 'list', 'chain', 'inet', 'tsfirewall', 'input4']), ['ip saddr @f2b-SSH', 'comment "tsfw:bans:']);
      if (!/ drop comment /.test(line)) throw new Error(`the ban rule does not drop: ${line}`);
      return Number(/counter packets (\d+) /.exec(line)![1]);
    },
    // Chain mode is an iptables notion: on nftables its bans are elements of the same set, and no chain is made.
    async chainBanned(ip) {
      const table = await out(c, ['nft', 'list', 'table', 'inet', 'tsfirewall']);
      if (/chain fail2ban-/.test(table)) throw new Error(`a fail2ban- chain in table inet tsfirewall:\n${table}`);
      return (await elements()).some((e) => e.val === ip);
    },
    leftovers: async () => [...(await inNft(c)), ...(await inIptables(c))],
    elsewhere: () => inIptables(c),
  };
}

/** The kernel view of `backend` inside container `c`. */
export function kernelView(backend: Fail2banBackend, c: StartedTestContainer): KernelView {
  return backend === 'nftables' ? nftView(c) : ipsetView(c);
}
