/** Pieces several sections share: the host facts of a lab namespace and a check that contestants load the same rules. */
import type { HostFacts } from '../../src/discover/host.js';
import type { Plan } from '../../src/model.js';
import type { Agent } from '../lib/ns.js';
import { ipv4Restore } from '../lib/rulesets.js';

/** Lab hosts sit on a /24 behind eth0 (see test/harness/netns.ts). */
export const hostFacts = (ip: string): HostFacts => ({ iface: 'eth0', myip: ip, prefix: 24, myip6: [], warnings: [] });

/**
 * The bench compiles its plan in-process; `tsfirewall show` in the namespace must print the same IPv4 document,
 * or the comparison would be between different rulesets. show stages the plan against what the kernel holds (it
 * takes over what is there), so it runs from boot state, no table at all, where that is the plain document.
 */
export async function sameRules(agent: Agent, showArgv: readonly string[], plan: Plan): Promise<void> {
  await agent.must(['nft', 'flush', 'ruleset']);
  const shown = (await agent.must(showArgv)).stdout;
  if (!shown.includes(ipv4Restore(plan))) {
    throw new Error(`[${agent.ns}] tsfirewall show differs from the bench's compiled ruleset; the comparison would be unfair`);
  }
}
