/**
 * start, reload, force-reload and restart. All four replace the ruleset atomically: unlike the seed's
 * `$0 stop; $0 start`, restart never leaves the host open between the two. Only the ban daemon handling differs.
 * They run under the verb lock, refuse a ruleset that would lock out the admin's SSH session (unless --force), and
 * with --confirm N keep the new ruleset only if the admin confirms within N seconds (see docs/safety.md).
 * `start --early` is the boot-time step before the network: the rules that need no address, no ban daemon.
 */
import { applyPlan } from '../../apply/apply.js';
import { holdersBesides, takeOverFrom } from '../../apply/switch.js';
import { banTargets, jailsOf } from '../../bans/jails.js';
import { restoreAfterStart } from '../../bans/upkeep.js';
import { describeOutcome, loadBlocklists } from '../../blocklists/load.js';
import { loadModules } from '../../apply/modules.js';
import type { FirewallBackend } from '../../backend/types.js';
import { isBootHost, type HostFacts } from '../../discover/host.js';
import { NotInstalledError, UsageError } from '../../errors.js';
import { log } from '../../log.js';
import type { Plan } from '../../model.js';
import { rememberAdminSource } from '../../safety/admin.js';
import { awaitConfirmation, MAX_CONFIRM_SECONDS } from '../../safety/confirm.js';
import { exclusive } from '../../safety/exclusive.js';
import { guardSession } from '../../safety/lockout.js';
import { daemonState, startDaemon, stopDaemon } from '../../services/fail2ban.js';
import { startCacheKey, writeStartCache, type CachedDaemon, type StartCacheEntry } from '../../state/start-cache.js';
import { readLoaded, recordLoaded, recordOf, stoppedCleanly, withCarriedSets, type LoadedRecord } from '../../state/loaded.js';
import { loadedBy } from '../../status/intact.js';
import type { Command, Context } from '../context.js';
import { say } from '../../output.js';
import { prepare } from '../pipeline.js';

const start: Command = async (ctx) => {
  // A dry run only reads, so it takes no lock: it is diff, under reload's name.
  if (ctx.dryRun) {
    if (ctx.confirm !== undefined || ctx.ifChanged) throw new UsageError('--dry-run changes nothing, so it takes neither --confirm nor --if-changed');
    return (await import('./diff.js')).default(ctx);
  }
  const confirmSeconds = parseConfirm(ctx.confirm);
  return exclusive(async () => {
    const { config, host, plan, backend, settings } = await prepare(ctx);
    const boot = isBootHost(host);
    const record = { ...recordOf(host, plan, settings), backend: backend.name };
    const skip = boot || ctx.ifChanged ? await reasonToSkip(backend, record, boot) : undefined;
    if (skip) {
      say(skip);
      return 0;
    }
    if (!ctx.early && config.fail2ban === 'yes' && daemonState(config) === 'not-installed') {
      throw new NotInstalledError('FAIL2BAN=yes but fail2ban is not installed (install it, or set FAIL2BAN=auto); nothing was changed');
    }
    // Before anything changes, but beside apply's first reads: the guard's programs (ipset test, iptables -S)
    // and modprobe only read or load modules, and the snapshot does not depend on them.
    const preflight = async () => {
      await guardSession(plan, backend, { force: ctx.force ?? false, serverFallback: isBootHost(host) ? undefined : host.myip ?? host.myip6[0] });
      rememberAdminSource();
      for (const w of await loadModules(plan.modules)) log.warn(w);
    };
    const confirm = confirmSeconds === undefined ? undefined
      : () => awaitConfirmation(confirmSeconds, { say: (line) => log.warn(line), stdin: process.stdin });
    const previous = readLoaded();
    await applyPlan(plan, backend, { verb: ctx.verb, confirm, preflight });
    // Another backend may still hold our older ruleset: after a switch of BACKEND, an upgrade, or at boot (no
    // record yet); not after a stop, which removed them all. Its bans move over before its rules go, so nothing
    // opens in between.
    if (previous ? previous.backend !== backend.name : !stoppedCleanly()) await takeOverFrom(backend, jailsOf(config).flatMap(banTargets));
    const written = withCarriedSets(record, previous);
    if (!recordLoaded(written)) {
      log.debug('could not record the loaded ruleset; status will not tell when it is out of date');
    }
    // The sets and chains exist now: the bans a stop saved go back in, expired chain bans go.
    const restored = await restoreAfterStart(backend, config);
    // The rules are in: a list that cannot be loaded is a warning, as a saved ban that cannot be restored is.
    const lists = await loadBlocklists(backend, config, { fetch: false }).catch((err: Error) => {
      log.warn(`blocklists not loaded (their sets stay as they were): ${err.message}`);
      return [];
    });
    for (const o of lists) {
      for (const note of o.notes) log.warn(`blocklist ${o.name}: ${note}`);
      say(describeOutcome(o));
    }
    // Only once the new rules are in (and confirmed): a restart that fails or is rolled back keeps the daemon too.
    if (ctx.verb === 'restart') await stopDaemon(config);
    const kept = restored ? `; ${restored}` : '';
    // The entry is the document for a table that is absent, whatever this start replaced: the cached path loads it
    // only then, and restores nothing (saved bans make it a miss). Never one with blocklists, whose sets it would
    // leave empty (their networks are loaded by Node, after the rules).
    const cacheable = ctx.verb === 'start' && confirm === undefined && config.blocklists.length === 0;
    const remember = (message: string, daemon: CachedDaemon | undefined) => {
      if (cacheable && daemon) cacheStart(backend, plan, { mode: boot ? 'early' : 'full', record: JSON.stringify(record), message, daemon });
    };
    if (boot) {
      const line = `firewall started before the network: ${ruleCount(plan)} rules (${backend.label}); those that need ` +
        `${host.iface ? `${host.iface}'s` : 'the interface\'s'} address follow with "tsfirewall start"`;
      say(`${line}${kept}`);
      remember(line, 'none');
      return 0;
    }
    const line = `firewall ${ctx.verb === 'start' ? 'started' : 'reloaded'}: ${ruleCount(plan)} rules for ${addressOf(host)}` +
      `${host.iface ? ` on ${host.iface}` : ''} (${backend.label})`;
    say(`${line}${kept}`);
    // The boot-time step comes before the network and the ban daemon's own unit: it leaves fail2ban to them.
    if (ctx.early) return 0;
    const daemon = await startDaemon(config, { verb: ctx.verb, host, backend });
    for (const w of daemon.warnings) log.warn(w);
    if (daemon.ok) say(daemon.message);
    else log.warn(daemon.message);
    if (daemon.ok) remember(`${line}\n${daemon.message}`, daemon.replay);
    return daemon.ok ? 0 : 1;
  });
};

/**
 * Leaves the entry the cached path (packaging/cached-start.sh) loads next time, when that script started us after
 * a miss; only for nftables, whose one document it can load with one `nft -f`.
 */
function cacheStart(backend: FirewallBackend, plan: Plan, entry: Omit<StartCacheEntry, 'document'>): void {
  const key = startCacheKey();
  if (key === undefined || backend.name !== 'nftables') return;
  const document = backend.stage(plan, undefined).parts.map((p) => p.text).join('');
  if (!writeStartCache(key, { ...entry, document })) log.debug('could not write the cached start; the next start compiles again');
}

/** MYIP/NETMASK, or on a host with IPv6 only its first IPv6 address and subnet. */
const addressOf = (host: HostFacts) => (host.myip !== undefined ? `${host.myip}/${host.prefix}`
  : `${host.myip6[0] ?? 'no address'}${host.subnets6?.[0] ? `/${host.subnets6[0].split('/')[1]}` : ''}`);

const ruleCount = (plan: Plan) => plan.rulesets.reduce((n, r) => n + r.tables.reduce((m, t) => m + t.rules.length, 0), 0);

/**
 * Why this start has nothing to do, read from the kernel's ruleset, which only --early and --if-changed pay for. The
 * early step must never replace a complete ruleset with a lesser one (a unit started by hand, or late);
 * `reload --if-changed` (the address watcher's) reloads a firewall whose rules would change, and the boot-time
 * rules always would: the address they waited for has come (even if the unit gave up retrying). It also reloads
 * what was loaded and is no longer whole (an outside flush, a foreign rule before ours), even when nothing of ours
 * is left: the record says it was started, and only stop forgets that. Rules another backend of ours holds
 * (BACKEND, or what auto picks, changed since) count as loaded: a reload moves them.
 */
async function reasonToSkip(backend: FirewallBackend, record: LoadedRecord, boot: boolean): Promise<string | undefined> {
  const previous = readLoaded();
  const loaded = boot ? undefined : loadedBy(backend, previous);
  const own = await backend.readLive(loaded?.families ?? ['ipv4'], []);
  const elsewhere = own.loaded ? undefined : (await holdersBesides(backend.name))[0]?.live;
  const live = elsewhere ?? own;
  const full = live.loaded && !live.boot;
  if (boot) return full ? 'firewall already loaded with its full ruleset; --early changes nothing' : undefined;
  const problems = loaded && !elsewhere ? backend.intact(loaded.plan, live) : [];
  if (problems.length > 0) {
    say(`the loaded rules are not intact (${problems.join('; ')}): reloading`);
    return undefined;
  }
  if (!live.loaded) return 'firewall not running: --if-changed starts nothing';
  return !elsewhere && full && previous?.rules === record.rules && previous.backend === record.backend ? 'rules up to date: nothing to reload' : undefined;
}

function parseConfirm(raw: Context['confirm']): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_CONFIRM_SECONDS) {
    throw new UsageError(`--confirm expects a number of seconds from 1 to ${MAX_CONFIRM_SECONDS}, got "${raw}"`);
  }
  return Number(raw);
}

export default start;
