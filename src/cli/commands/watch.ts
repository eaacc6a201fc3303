/**
 * watch: follows the interface's address, the reason the seed's rules lived in a script (DHCP). A new lease with
 * another address would leave "not addressed to me" dropping everything sent to the new one. `ip -o monitor
 * address` reports every address change in this network namespace; after a quiet second a `reload --if-changed`
 * runs as a child process (the same lock, journal and rollback as any reload) and changes nothing unless the
 * rules would. It also guards the loaded rules (status/guard.ts): a change from outside that leaves them not intact
 * (a flush, a foreign rule before ours) is logged and repaired the same way within seconds. Runs until SIGTERM or
 * SIGINT: tsfirewall-watch.service.
 */
import { which } from '../../exec/which.js';
import { NotInstalledError } from '../../errors.js';
import { follow, run } from '../../exec/run.js';
import { log } from '../../log.js';
import { guardLoaded } from '../../status/guard.js';
import type { Command } from '../context.js';
import { say } from '../../output.js';

/** Address events come in bursts (a lease: delete, add, the IPv6 addresses): one reload after the last. */
const QUIET_MS = 1_000;
/** A reload waits up to 30 s for the verb lock; this bounds a child that hangs beyond that. */
const RELOAD_TIMEOUT_MS = 180_000;

const watch: Command = async (ctx) => {
  const ip = which('ip');
  if (!ip) throw new NotInstalledError('the ip program (iproute2) is not installed: watch follows addresses with `ip monitor address`');
  const reloadArgv = [process.argv[1]!, ...(ctx.configPath ? ['--config', ctx.configPath] : []), 'reload', '--if-changed'];
  let queue = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  /** Reloads queued or running: while there are any, the guard leaves the rules to them. */
  let reloading = 0;
  const reloadOnce = async (why: string) => {
    const r = await run(process.execPath, reloadArgv, { timeoutMs: RELOAD_TIMEOUT_MS });
    const said = r.stdout.trim();
    const reason = (r.spawnError ?? r.stderr.trim()).replace(/^(error|warn): /gm, '');
    // 6 is "not configured": most often no address yet (a lease to come), which the next event will bring.
    if (r.exitCode === 6) log.info(`${why}: rules left as they are: ${reason}`);
    else if (r.exitCode !== 0) log.warn(`${why}: reload failed (exit ${r.exitCode}): ${reason}`);
    else if (/^firewall reloaded/m.test(said)) log.info(`${why}: ${said.split('\n').join('; ')}`);
    else log.debug(`${why}: ${said}`);
  };
  const enqueue = (why: string) => {
    reloading++;
    queue = queue.then(() => reloadOnce(why)).finally(() => { reloading--; guard.settled(); });
  };
  const reloadSoon = (why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = undefined; enqueue(why); }, QUIET_MS);
  };
  const guard = guardLoaded({
    busy: () => timer !== undefined || reloading > 0,
    found: (problems) => {
      log.info(`the rules were changed from outside: ${problems.join('; ')}; reloading`);
      enqueue('repairing');
    },
  });
  const monitor = follow(ip, ['-o', 'monitor', 'address'], () => reloadSoon('address changed'));
  // "watching" only once ip monitor runs: a change from then on is an event, not only the catch-up below.
  await monitor.started;
  say(`watching this host's addresses: the rules follow them (reload --if-changed after each change)`);
  // Changes made before the monitor started (a lease that came during boot) are caught up with once.
  reloadSoon('catching up with the addresses at start');
  const ended = await new Promise<'signal' | 'monitor'>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve('signal'));
    void monitor.done.then(() => resolve('monitor'));
  });
  clearTimeout(timer);
  guard.stop();
  monitor.stop();
  await queue;
  if (ended === 'signal') return 0;
  const r = await monitor.done;
  log.error(`ip monitor ended (${r.spawnError ?? `exit ${r.exitCode}: ${r.stderr.trim()}`}); addresses are no longer followed`);
  return 1;
};

export default watch;
