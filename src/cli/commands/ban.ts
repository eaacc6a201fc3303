/**
 * ban IP... [--jail NAME]: through `fail2ban-client set <jail> banip` when the daemon runs, so fail2ban knows the
 * ban and lifts it after bantime; straight into the kernel when it does not, or when there are many addresses
 * (fail2ban forks its action once per address; one `ipset restore` loads 10k in ~50 ms). Addresses the ban guard
 * refuses (safety/ban-guard.ts: the admin's live session, this host, trusted nets...) stop the whole batch, exit 2.
 */
import { readFileSync } from 'node:fs';
import { expandBan, isNetworkBan, parseBanAddresses, type BanAddress } from '../../bans/ip.js';
import { findJail, type JailSpec } from '../../bans/jails.js';
import { liftExpired } from '../../bans/upkeep.js';
import { banContext, banDirect } from '../../bans/ops.js';
import { BanRefusedError, UsageError } from '../../errors.js';
import { log } from '../../log.js';
import { daemonState, fail2banClient } from '../../services/fail2ban.js';
import { queueForFleet } from '../../services/fleet/queue.js';
import type { Command } from '../context.js';
import { say } from '../../output.js';
import { banGuardFacts } from '../../safety/ban-facts.js';
import { refusalMessage, refusalsFor, type BanRefusal } from '../../safety/ban-guard.js';
import { netGuard } from '../../safety/net-guard.js';
import { parseNetwork } from '../../net/addr.js';

/** Above this many addresses the batch path wins even when fail2ban runs. */
export const CLIENT_MAX = 50;

export function pickJail(jails: readonly JailSpec[], name: string | undefined): JailSpec {
  if (name !== undefined) {
    const jail = findJail(jails, name);
    if (!jail) throw new UsageError(`no jail "${name}" (jails: ${jails.map((j) => j.jail).join(', ')})`);
    return jail;
  }
  if (jails.length > 1) throw new UsageError(`several jails (${jails.map((j) => j.jail).join(', ')}): name one with --jail`);
  return jails[0]!;
}

/** Addresses from argv, or from stdin for "-" (one or more per line), so 10k never meet the argv limit. */
export function addressArgs(args: readonly string[]): string[] {
  return args.flatMap((a) => (a === '-' ? readFileSync(0, 'utf8').split(/\s+/).filter(Boolean) : [a]));
}

const ban: Command = async (ctx) => {
  const raw = addressArgs(ctx.args);
  if (raw.length === 0) throw new UsageError('ban needs at least one IP address');
  const { ok, bad } = parseBanAddresses(raw, { networks: true });
  if (bad.length > 0) throw new UsageError(`not a host address or a network of at most 65536 addresses: ${bad.slice(0, 5).map((b) => `"${b}"`).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}; nothing was banned`);
  const bctx = await banContext(ctx.configPath);
  const jail = pickJail(bctx.jails, ctx.jail);
  // Before fail2ban or the kernel hears of it: fail2ban's banip does not consult ignoreip.
  const facts = await banGuardFacts(bctx.config);
  const hosts: string[] = [];
  const networks: BanAddress[] = [];
  for (const a of ok) {
    if (isNetworkBan(a)) networks.push(a);
    else hosts.push(a.ip);
  }
  // A network is refused when it holds an address no ban may take, or overlaps a trusted net (net-guard.ts).
  const guard = netGuard(facts, { trusted: true });
  const refused = [
    ...refusalsFor(hosts, facts, { force: ctx.force }),
    ...networks.map((a) => guard(parseNetwork(a.ip)!)).filter((r): r is BanRefusal => r !== undefined && !(ctx.force && r.forceable)),
  ];
  if (refused.length > 0) throw new BanRefusedError(refusalMessage(refused, ok.length));
  await liftExpired(bctx.backend, bctx.jails);
  // A network goes straight to the kernel: fail2ban's actions ban one address at a time.
  if (daemonState(bctx.config) === 'running' && ok.length <= CLIENT_MAX && networks.length === 0) {
    const r = await fail2banClient(['set', jail.jail, 'banip', ...ok.map((a) => a.ip)]);
    if (r.exitCode === 0) {
      say(`banned ${ok.length} address${ok.length === 1 ? '' : 'es'} in ${jail.jail} (through fail2ban)`);
      return 0;
    }
    log.warn(`fail2ban refused the ban (${r.stderr.trim() || r.stdout.trim()}); banning directly in the kernel`);
  }
  const n = await banDirect(bctx, jail, ok);
  // Through fail2ban, its tsfirewall-fleet action queues the ban; straight into the kernel, this does.
  queueForFleet(bctx.config, jail, 'ban', ok.map((a) => a.ip), 'ban', jail.service.jail.bantime);
  // A chain rule never expires in the kernel: the next verb that touches bans after its time lifts it.
  const expiry = `expires after ${jail.service.jail.bantime}s${jail.kind === 'chain' ? ', lifted by the next tsfirewall ban verb or start after that' : ''}`;
  const what = networks.length === 0 ? `${ok.length} address${ok.length === 1 ? '' : 'es'}`
    : `${ok.length - networks.length} address${ok.length - networks.length === 1 ? '' : 'es'} and ${networks.length} network${networks.length === 1 ? '' : 's'}` +
      (jail.kind === 'set' ? ` (${networks.reduce((t, a) => t + expandBan(a).length, 0)} addresses)` : '');
  say(`banned ${what} in ${jail.jail} (${n} new kernel entries, ${expiry})`);
  return 0;
};

export default ban;
