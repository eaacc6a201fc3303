/**
 * unban IP... | --all [--jail NAME]: tells fail2ban first (when it runs) so it forgets the ban instead of lifting
 * it again later, then removes the addresses from the kernel directly, which also catches bans fail2ban never
 * knew about (loaded with `ban` while it was down, or in a batch), and from the services' hit-rate tables.
 */
import { isNetworkBan, parseBanAddresses } from '../../bans/ip.js';
import { liftExpired } from '../../bans/upkeep.js';
import { banContext, forgetHits, listBans, unbanDirect } from '../../bans/ops.js';
import { UsageError } from '../../errors.js';
import { log } from '../../log.js';
import { daemonState, fail2banClient } from '../../services/fail2ban.js';
import { queueForFleet } from '../../services/fleet/queue.js';
import type { Command } from '../context.js';
import { say } from '../../output.js';
import { addressArgs, pickJail } from './ban.js';

const unban: Command = async (ctx) => {
  const raw = addressArgs(ctx.args);
  if ((ctx.all ?? false) === (raw.length > 0)) throw new UsageError('unban needs IP addresses or --all (not both)');
  const { ok, bad } = parseBanAddresses(raw, { networks: true });
  if (bad.length > 0) throw new UsageError(`not a host address or network: ${bad.slice(0, 5).map((b) => `"${b}"`).join(', ')}; nothing was unbanned`);
  const bctx = await banContext(ctx.configPath);
  const jails = ctx.jail === undefined ? bctx.jails : [pickJail(bctx.jails, ctx.jail)];
  await liftExpired(bctx.backend, bctx.jails);
  if (daemonState(bctx.config) === 'running') {
    // fail2ban must forget the ban (its database would restore it on the next start); it has no per-jail
    // "--all", so one jail's all is the addresses the kernel holds for it.
    const ips = ctx.all && ctx.jail !== undefined
      ? Object.values((await listBans({ ...bctx, jails }))[0]!.addresses).flat()
      : ctx.all ? ['--all'] : ok.filter((a) => !isNetworkBan(a)).map((a) => a.ip);
    const r = ips.length === 0 ? undefined
      : await fail2banClient(ctx.jail !== undefined ? ['set', jails[0]!.jail, 'unbanip', ...ips] : ['unban', ...ips]);
    if (r && r.exitCode !== 0) log.warn(`fail2ban: ${r.stderr.trim() || r.stdout.trim()} (removing from the kernel anyway)`);
  }
  // What --all lifts, for the fleet: the addresses the kernel holds now.
  const lifted = bctx.config.fleet === undefined ? [] : ctx.all
    ? (await listBans({ ...bctx, jails })).map((j) => ({ jail: jails.find((s) => s.jail === j.jail)!, ips: Object.values(j.addresses).flat() }))
    : jails.map((jail) => ({ jail, ips: ok.map((a) => a.ip) }));
  await unbanDirect(bctx, jails, ctx.all ? 'all' : ok);
  for (const l of lifted) queueForFleet(bctx.config, l.jail, 'unban', l.ips, 'unban');
  await forgetHits(bctx, jails, ok);
  say(`unbanned ${ctx.all ? 'everything' : `${ok.length} address${ok.length === 1 ? '' : 'es'}`} in ${jails.map((j) => j.jail).join(', ')}`);
  return 0;
};

export default unban;
