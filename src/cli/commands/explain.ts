/**
 * explain: which rule decides one packet, and its path through the chains (ban lookups, the hit-rate limiter,
 * trust, the policy), walked on the live ruleset with the kernel's own ban sets and limiter counts (safety/evaluate.ts).
 * It changes nothing. Exit 0 with an answer, 2 for a bad packet option, 3 when no ruleset of ours is loaded.
 */
import { networkInterfaces } from 'node:os';
import { holdersBesides } from '../../apply/switch.js';
import { detectBackend } from '../../backend/choose.js';
import type { FirewallBackend, LiveWalk } from '../../backend/types.js';
import { chainTimeLeft } from '../../bans/expiry.js';
import { jailsOf } from '../../bans/jails.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { resolveHostChoices } from '../../discover/choices.js';
import { discoverHost } from '../../discover/host.js';
import { NotRunningError } from '../../errors.js';
import { broadcastOf, completeProbe, hookOf, parseProbe, type HostSide } from '../../explain/probe.js';
import { answerOf, banOf, formatAnswer } from '../../explain/report.js';
import { log } from '../../log.js';
import type { Family } from '../../model.js';
import { evaluate } from '../../safety/evaluate.js';
import { familyOf } from '../../safety/packet-match.js';
import { readLoaded } from '../../state/loaded.js';
import type { Command } from '../context.js';

/**
 * This host's addresses now (node:os), and MYIP: the interface's address now (where packets go, even when the rules
 * were made for an earlier one), else the one the loaded rules were made for (the record).
 */
async function hostSide(config: Config | undefined): Promise<HostSide> {
  const addrs = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const now = config ? await discoverHost(config, { scan: false }).catch(() => undefined) : undefined;
  const loadedFor = readLoaded()?.addresses ?? [];
  const v4 = now?.myip ?? loadedFor.find((a) => familyOf(a) === 'ipv4');
  const v6 = now?.myip6[0] ?? loadedFor.find((a) => familyOf(a) === 'ipv6');
  return {
    local: addrs.map((a) => a.address.toLowerCase()),
    broadcasts: addrs.map((a) => (a.family === 'IPv4' && a.cidr ? broadcastOf(a.cidr) : undefined)).filter((b): b is string => b !== undefined),
    myip: { ...(v4 ? { ipv4: v4 } : {}), ...(v6 ? { ipv6: v6 } : {}) },
  };
}

/**
 * The backend whose rules are loaded, and its walk of the packet's family: the configured one, or the one still
 * holding our rules after a change of BACKEND (as status reads it). A family the ruleset leaves alone (IPV6=off) is
 * walked as the kernel holds it.
 */
async function loadedWalk(configured: FirewallBackend, family: Family): Promise<{ backend: FirewallBackend; walk: LiveWalk }> {
  const walk = await configured.readWalk(family);
  if (walk.loaded || (await configured.readLive(['ipv4', 'ipv6'], [])).loaded) return { backend: configured, walk };
  const holder = (await holdersBesides(configured.name))[0];
  if (holder) return { backend: holder.backend, walk: await holder.backend.readWalk(family) };
  throw new NotRunningError('the firewall is not loaded, so nothing of tsfirewall\'s decides packets ("tsfirewall start" loads it)');
}

const explain: Command = async (ctx) => {
  const typed = parseProbe(ctx.packet ?? {});
  let config: Config | undefined;
  try {
    config = loadConfig(ctx.configPath).config;
  } catch (err) {
    log.warn(`config unusable (${(err as Error).message.split('\n')[0]}); explaining without jail names`);
  }
  const family = familyOf(typed.src);
  const { backend, walk } = await loadedWalk(await detectBackend(config?.backend ?? 'auto'), family);
  const host = await hostSide(config);
  const probe = completeProbe(typed, host);
  const hook = hookOf(probe, host);
  const verdict = evaluate(walk, walk.hooks[hook], hook, probe, { facts: walk.facts });
  const jails = config ? jailsOf(resolveHostChoices(config, backend.name)).map((j) => ({ jail: j.jail, names: Object.values(j.targets) })) : [];
  const ban = banOf(verdict.rule, probe, jails, walk.facts, (chain, ip) => chainTimeLeft({ family, name: chain, kind: 'chain' }).get(ip));
  const answer = answerOf(verdict, probe, hook, backend.label, ban);
  process.stdout.write(ctx.json ? `${JSON.stringify(answer, null, 2)}\n` : formatAnswer(answer));
  return 0;
};

export default explain;
