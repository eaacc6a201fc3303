/**
 * Three firewalled hosts for the per-packet and reload sections, set up once: p0 (ipset mode, no bans), ps (ipset
 * mode, 10k bans in the set) and pc (the seed's chain mode, 10k DROP rules in fail2ban-SSH). Each serves port 22
 * with the hit-rate limiter off, so every connection is accepted and every packet to it passes the ban check.
 */
import { banAddresses } from '../../test/harness/ban-addresses.js';
import { backendEnv } from '../lib/backends.js';
import { chainCount, chainRestore, ipsetAdds, ipsetCount } from '../lib/bans.js';
import type { BenchLab, Role } from '../lib/lab.js';
import type { Agent } from '../lib/ns.js';
import { timed } from '../lib/rounds.js';

export const TARGET_BANS = 10_000;
const SET = 'f2b-SSH';
const CHAIN = 'fail2ban-SSH';
const BASE = 'FAIL2BAN=no\nSERVICES=ssh\nSERVICE_SSH_RATE_LIMIT=no\n';

export interface Targets {
  readonly conf: { readonly ipset: string; readonly chain: string };
  /** Throws unless the host still holds exactly its 10k bans. */
  verify(role: 'ps' | 'pc'): Promise<void>;
}

const ready = new WeakMap<BenchLab, Promise<Targets>>();

export const targets = (lab: BenchLab): Promise<Targets> => {
  if (!ready.has(lab)) ready.set(lab, setUp(lab));
  return ready.get(lab)!;
};

async function setUp(lab: BenchLab): Promise<Targets> {
  const conf = { ipset: lab.config('pp-ipset.conf', `${BASE}BAN_MODE=ipset\n`), chain: lab.config('pp-chain.conf', `${BASE}BAN_MODE=chain\n`) };
  const { p0, ps, pc } = lab.agents;
  await p0.must(lab.tsfw('start', conf.ipset));
  await ps.must(lab.tsfw('start', conf.ipset));
  await pc.must(lab.tsfw('start', conf.chain));
  await ps.must(['ipset', 'restore', '-exist'], ipsetAdds(SET, TARGET_BANS));
  await pc.must(['iptables-restore', '-w', '5', '--noflush'], chainRestore(CHAIN, TARGET_BANS));
  for (const role of ['p0', 'ps', 'pc'] as Role[]) await lab.serve(role, 22, 600_000);
  const t: Targets = {
    conf,
    async verify(role) {
      const n = role === 'ps'
        ? ipsetCount((await ps.must(['ipset', 'list', '-t', SET])).stdout)
        : chainCount((await pc.must(['iptables', '-S', CHAIN])).stdout);
      if (n !== TARGET_BANS) throw new Error(`${role}: ${n} bans, expected ${TARGET_BANS} (bans lost)`);
    },
  };
  await t.verify('ps');
  await t.verify('pc');
  return t;
}

/** The nftables backend's reload target: rn, the same config, 10k bans in its set (no timeout: they stay). */
export interface NftTarget { readonly agent: Agent; readonly conf: string; verify(): Promise<void> }

const nftReady = new WeakMap<BenchLab, Promise<NftTarget>>();

export const nftTarget = (lab: BenchLab): Promise<NftTarget> => {
  if (!nftReady.has(lab)) nftReady.set(lab, setUpNft(lab));
  return nftReady.get(lab)!;
};

async function setUpNft(lab: BenchLab): Promise<NftTarget> {
  const agent = await lab.agentIn('rn');
  const conf = lab.config('rn-nft.conf', `${BASE}BAN_MODE=ipset\n`);
  await timed(agent, lab.tsfw('start', conf), { env: backendEnv('nftables') });
  await agent.must(['nft', '-f', '-'], `add element inet tsfirewall ${SET} { ${banAddresses(TARGET_BANS).join(', ')} }\n`);
  const t: NftTarget = {
    agent, conf,
    async verify() {
      const listed = JSON.parse((await agent.must(['nft', '-j', 'list', 'set', 'inet', 'tsfirewall', SET])).stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
      const n = listed.nftables.find((x) => x.set)?.set?.elem?.length ?? 0;
      if (n !== TARGET_BANS) throw new Error(`rn: ${n} bans, expected ${TARGET_BANS} (bans lost)`);
    },
  };
  await t.verify();
  return t;
}
