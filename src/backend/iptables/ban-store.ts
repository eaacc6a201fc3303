/**
 * The iptables backend's ban store: a ban target is an ipset (ipset mode) or the seed's fail2ban-NAME chain of DROP
 * rules (chain mode), and each operation is one batch program whatever the number of addresses (bans.ts).
 */
import ipaddr from 'ipaddr.js';
import { banSetSpec } from '../../compile/plan.js';
import { run } from '../../exec/run.js';
import { which } from '../../exec/which.js';
import type { BanStore, BanTarget } from '../types.js';
import { chainMembers, editChain, flushChain, flushSet, loadBans, removeFromSet, setExists, setMembers } from './bans.js';
import type { IptablesPrograms } from './programs.js';

export function iptablesBanStore(p: IptablesPrograms): BanStore {
  const spec = (t: BanTarget) => banSetSpec(t.name, t.family);
  return {
    members: async (t) => (t.kind === 'set' ? setMembers(t.name) : (await chainMembers(p.cli[t.family], t.name))?.map((ip) => ({ ip }))),
    add: (t, ips, opts) => (t.kind === 'set'
      ? loadBans(spec(t), ips, opts)
      : editChain(p.cli[t.family], p.restore[t.family], t.name, 'add', ips)),
    remove: async (t, ips) => {
      const exists = t.kind === 'set' ? await setExists(t.name) : (await chainMembers(p.cli[t.family], t.name)) !== undefined;
      if (!exists || ips.length === 0) return;
      if (t.kind === 'set') await removeFromSet(spec(t), ips);
      else await editChain(p.cli[t.family], p.restore[t.family], t.name, 'del', ips);
    },
    flush: async (t) => {
      if (t.kind === 'set') { if (await setExists(t.name)) await flushSet(t.name); return; }
      if ((await chainMembers(p.cli[t.family], t.name)) !== undefined) await flushChain(p.cli[t.family], t.name);
    },
    holds: async (t, ip) => {
      if (t.kind === 'set') {
        const ipset = which('ipset');
        return ipset !== undefined && (await run(ipset, ['test', t.name, ip])).exitCode === 0;
      }
      const r = await run(p.cli[t.family], ['-w', '5', '-S', t.name]);
      return r.exitCode === 0 && bannedBy(r.stdout.split('\n'), ip) !== undefined;
    },
  };
}

/** The first `-A chain -s NET ... -j DROP|REJECT` line whose source covers `ip`. Pure. */
export function bannedBy(lines: readonly string[], ip: string): string | undefined {
  const addr = ipaddr.process(ip);
  return lines.find((line) => {
    const m = /^-A \S+ -s (\S+) .*-j (DROP|REJECT)\b/.exec(line.trim());
    if (!m) return false;
    try {
      const [net, len] = ipaddr.parseCIDR(m[1]!.includes('/') ? m[1]! : `${m[1]}/${addr.kind() === 'ipv4' ? 32 : 128}`);
      return net.kind() === addr.kind() && addr.match(net, len);
    } catch {
      return false;
    }
  })?.trim();
}
