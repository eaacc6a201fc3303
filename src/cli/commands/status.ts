/**
 * status: exit 0 when our ruleset is loaded and whole, 1 when what was loaded is no longer whole (LSB "dead, but the
 * record exists": state tampered, the problems named), 3 when nothing is loaded. Reads the kernel through the
 * backend (rules with counters, ban set sizes), the hit-rate tables and the ban daemon's pid, holds the rules
 * against the record of what was loaded, and says when they are no longer what the config and the interface's
 * address give (node:os only: no discovery program), so it stays near Node's start-up floor.
 */
import { holdersBesides } from '../../apply/switch.js';
import { detectBackend } from '../../backend/choose.js';
import { banCounts, formatBanCounts, setsToCount } from '../../bans/counts.js';
import { jailsOf } from '../../bans/jails.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { resolveHostChoices } from '../../discover/choices.js';
import { log } from '../../log.js';
import { describePendingApply } from '../../safety/journal.js';
import { daemonState } from '../../services/fail2ban.js';
import { currentDrift, describeDrift } from '../../status/drift.js';
import { formatRecent, formatSaved } from '../../status/format.js';
import { applyInProgress, describeProblems, problemsOf } from '../../status/intact.js';
import { stateOf } from '../../status/state.js';
import type { Command } from '../context.js';
import { mark } from '../../trace.js';
import { writeOut } from '../../output.js';

/** Resolves on the event loop's next turn, after whatever this one started. */
const nextTurn = () => new Promise<void>((resolve) => { setImmediate(resolve); });

/** Enough to read the kernel when the config cannot be used. */
const FALLBACK: Pick<Config, 'backend' | 'ipv6' | 'fail2ban'> = { backend: 'auto', ipv6: 'drop', fail2ban: 'auto' };

const status: Command = async (ctx) => {
  let loadedConfig: Config | undefined;
  try {
    loadedConfig = loadConfig(ctx.configPath).config;
  } catch (err) {
    log.warn(`config unusable (${(err as Error).message.split('\n')[0]}); showing the kernel's rules anyway`);
  }
  mark('config read');
  const interrupted = describePendingApply();
  if (interrupted) log.warn(interrupted);
  const backend = await detectBackend((loadedConfig ?? FALLBACK).backend);
  mark('backend');
  const full = loadedConfig && resolveHostChoices(loadedConfig, backend.name);
  const config = full ?? FALLBACK;
  const jails = full ? jailsOf(full) : [];
  // Every read status needs runs at once: its latency is the slowest of them, not their sum. The drift (discovery and
  // a compile, no program) waits for the event loop's next turn, by when the reads' programs have been started: it
  // is worked out while they run instead of before they start.
  const [ownLive, ownRecent, drift] = await Promise.all([
    // Every family, whatever IPV6 says now: rules loaded under an earlier setting still filter.
    backend.readLive(['ipv4', 'ipv6'], setsToCount(jails)),
    backend.readLimiter(),
    full ? nextTurn().then(() => currentDrift(full)) : Promise.resolve(undefined),
  ]);
  // Nothing here, but the rules another backend loaded before BACKEND (or what auto picks) changed may still filter:
  // they are the firewall until a reload moves them (only a stopped status pays for looking).
  const holder = ownLive.loaded ? undefined : (await holdersBesides(backend.name, { sets: setsToCount(jails) }))[0];
  const shown = holder?.backend ?? backend;
  const live = holder?.live ?? ownLive;
  const recent = holder ? await holder.backend.readLimiter() : ownRecent;
  const daemon = daemonState(config);
  const bans = banCounts(jails, live.families, live.setCounts);
  // What was loaded, held against what is there: no program, only what was just read and the record.
  const problems = applyInProgress() ? [] : problemsOf(shown, live);
  const state = stateOf({ live, problems, daemon, fail2ban: config.fail2ban, jails: jails.length });
  // The boot-time ruleset differs from the full one by design; only a complete ruleset can be out of date.
  const outOfDate = holder ? { reason: 'backend' as const, loadedBy: holder.backend.label, now: backend.label }
    : live.loaded && !live.boot ? drift : undefined;
  if (ctx.json) {
    writeOut(JSON.stringify({
      state, backend: shown.name, banDaemon: daemon, problems, pending: outOfDate ?? null, bans,
      families: Object.fromEntries(live.families), recent,
    }, null, 2) + '\n');
  } else {
    const lines = [`tsfirewall: ${state} (${shown.label}; ban daemon: ${daemon})`, formatBanCounts(bans)];
    if (live.boot) lines.splice(1, 0, 'boot-time ruleset only: the rules that need the address load with "tsfirewall start"');
    if (outOfDate) lines.splice(1, 0, describeDrift(outOfDate));
    if (problems.length > 0) lines.splice(1, 0, describeProblems(problems));
    for (const [family, s] of live.families) lines.push(formatSaved(family === 'ipv4' ? 'IPv4' : 'IPv6', s));
    lines.push(formatRecent(recent));
    writeOut(lines.join('\n'));
  }
  return problems.length > 0 ? 1 : live.loaded ? 0 : 3;
};

export default status;
