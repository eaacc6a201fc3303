/**
 * The facts the ban guard (safety/ban-guard.ts) judges by, read from this host: its logged-in SSH sessions (the
 * environment's and the kernel's, safety/sessions.ts), remembered admin addresses, every interface's addresses
 * (node:os, all interfaces, not only MYIP's) and what the config trusts. Kept apart from the guard so that a fleet receiver can bring its own facts to the same pure function.
 */
import { networkInterfaces } from 'node:os';
import type { Config } from '../config/types.js';
import { discoverHost, localSubnet } from '../discover/host.js';
import { adminSources } from './admin.js';
import type { BanGuardFacts, HostAddress } from './ban-guard.js';
import { adminSessions, liveSessions } from './sessions.js';

export interface FactSources {
  readonly env?: NodeJS.ProcessEnv;
  readonly interfaces?: typeof networkInterfaces;
}

/** This host's facts for `config`; never throws (a fact that cannot be read is left out, the rest still guard). */
export async function banGuardFacts(config: Config, src: FactSources = {}): Promise<BanGuardFacts> {
  const env = src.env ?? process.env;
  const all = (src.interfaces ?? networkInterfaces)();
  const hostAddresses: HostAddress[] = Object.entries(all).flatMap(([iface, addrs]) =>
    (addrs ?? []).map((a) => ({ iface, address: a.address.replace(/%.*$/, ''), cidr: a.cidr })));
  return {
    // Logged-in sessions only: a connection still at sshd's password prompt may be the very attacker being banned.
    sessions: adminSessions(liveSessions({ env, interfaces: () => all })),
    adminSources: adminSources(env),
    hostAddresses,
    trusted: [
      ...config.trustedNets.map((net) => ({ net, key: 'TRUSTED_NETS' })),
      ...(config.trustLocalSubnet ? await trustedLocalSubnet(config, all) : []),
    ],
  };
}

/** The subnet TRUST_LOCAL_SUBNET=yes accepts: MYIP's, as start compiles it; none when the host cannot say. */
async function trustedLocalSubnet(config: Config, all: ReturnType<typeof networkInterfaces>) {
  try {
    const host = await discoverHost(config, { scan: false, interfaces: () => all });
    const { myip, prefix } = host;
    return myip === undefined || prefix === undefined ? [] : [{ net: localSubnet({ myip, prefix }), key: 'the local subnet (TRUST_LOCAL_SUBNET=yes)' }];
  } catch {
    return [];
  }
}
