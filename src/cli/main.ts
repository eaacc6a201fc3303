/**
 * The CLI entry: parse argv, look the verb up in a lazy command table (each verb's code is loaded only when it
 * runs, which keeps `status` from paying for `start`), and map every error to its LSB exit code in one place.
 */
import { parseArgs } from 'node:util';
import { TsfwError, UsageError } from '../errors.js';
import { flushLogs, log, setQuiet, setVerbose } from '../log.js';
import { SANDBOX_VERB } from '../backend/iptables/sandbox-verb.js';
import type { Command, Context } from './context.js';
import { OPTIONS } from './options.js';
import { mark } from '../trace.js';

declare const __TSFW_VERSION__: string | undefined;
const VERSION = typeof __TSFW_VERSION__ === 'string' ? __TSFW_VERSION__ : 'dev';

const COMMANDS: Readonly<Record<string, () => Promise<{ default: Command }>>> = {
  start: () => import('./commands/start.js'),
  reload: () => import('./commands/start.js'),
  'force-reload': () => import('./commands/start.js'),
  restart: () => import('./commands/start.js'),
  stop: () => import('./commands/stop.js'),
  status: () => import('./commands/status.js'),
  check: () => import('./commands/check.js'),
  show: () => import('./commands/show.js'),
  recent: () => import('./commands/recent.js'),
  mailguard: () => import('./commands/mailguard.js'),
  bans: () => import('./commands/bans.js'),
  ban: () => import('./commands/ban.js'),
  unban: () => import('./commands/unban.js'),
  confirm: () => import('./commands/confirm.js'),
  watch: () => import('./commands/watch.js'),
  fleet: () => import('./commands/fleet.js'),
  [SANDBOX_VERB]: () => import('./commands/sandbox.js'),
};

/** The verbs that can work on the boot-time ruleset (the others act on whatever is loaded). */
const EARLY_VERBS: ReadonlySet<string> = new Set(['start', 'show', 'check']);

export const USAGE = `Usage: tsfirewall [options] {start|stop|restart|reload|force-reload|status|check|show|recent|mailguard|bans|ban|unban|confirm|watch|fleet}

  start          load the firewall (atomically) and start the ban daemon
  stop           open the host: flush rules, policies ACCEPT, stop the ban daemon
  restart        reload the rules and restart the ban daemon, with no open window
  reload         replace the rules atomically, keeping bans and established connections
  force-reload   same as reload
  status         show the loaded rules, counters and hit-rate tables (exit 0 loaded, 3 stopped)
  check          validate config and ruleset with iptables-restore --test; change nothing
  show           print exactly what start would load
  recent         list the hit-rate tables; "recent clear [NAME]" empties them
  mailguard      enable|disable|status: Postfix accepts mail for unknown users into a black-hole account,
                 so usernames cannot be harvested over SMTP (status: exit 0 on, 3 off)
  bans           list the banned addresses per jail, read from the kernel's ban sets/chains
  ban IP...      ban addresses (through fail2ban when it runs); "ban -" reads them from stdin [--jail NAME]
  unban IP...    lift bans in every jail (or --jail NAME); "unban --all" lifts them all
  confirm        keep the ruleset a "start/reload/restart --confirm N" is waiting on
  watch          follow this host's addresses (DHCP): reload --if-changed after each change; runs until stopped
  fleet          share bans with the other hosts of the fleet (NATS JetStream); runs until stopped.
                 "fleet status" shows the engine connection, hosts seen, bans sent, received, refused, lag

Options:
  -c, --config PATH   config file (default /etc/default/tsfirewall, or $TSFIREWALL_CONFIG)
  -j, --json          machine-readable output (status, recent, mailguard status, bans, fleet status)
      --jail NAME     ban/unban: which jail (tsfw-ssh, ssh and SSH name the same one)
      --all           unban: every banned address
      --confirm SECS  start/reload/restart: roll back unless "tsfirewall confirm" (or a key) comes within SECS
      --force         start/reload/restart: load a ruleset even if it would lock out this SSH session;
                      ban: ban a remembered admin address (never a live session, this host or a trusted net)
      --early         start/show/check: the boot-time ruleset, for before the network is up: every rule but
                      those that need the interface's address (a later "start" adds them); no ban daemon
      --if-changed    reload: only if the firewall runs and its rules would change (config edited, address moved)
  -v, --verbose       debug logging, including every command run
  -h, --help          this help
  -V, --version       print the version
`;

export async function main(argv: readonly string[]): Promise<number> {
  const code = await dispatch(argv);
  mark('verb done');
  await flushLogs();
  return code;
}

async function dispatch(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) { process.stdout.write(USAGE); return 0; }
    if (values.version) { process.stdout.write(`tsfirewall ${VERSION}\n`); return 0; }
    const [verb, ...args] = positionals;
    const load = verb === undefined ? undefined : COMMANDS[verb];
    if (!load) throw new UsageError(verb === undefined ? 'no command given' : `unknown command "${verb}"`);
    if (values.json) setQuiet();
    setVerbose(values.verbose ?? false);
    const ctx: Context = { verb: verb!, args, configPath: values.config, json: values.json ?? false,
      jail: values.jail, all: values.all, confirm: values.confirm, force: values.force ?? false, early: values.early ?? false,
      ifChanged: values['if-changed'] ?? false };
    if (ctx.early && !EARLY_VERBS.has(verb!)) throw new UsageError(`--early goes with ${[...EARLY_VERBS].join(', ')}, not ${verb}`);
    if (ctx.ifChanged && verb !== 'reload' && verb !== 'force-reload') throw new UsageError(`--if-changed goes with reload, not ${verb}`);
    const command = (await load()).default;
    mark('verb loaded');
    return await command(ctx);
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`tsfirewall: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (err instanceof TsfwError) {
    log.error(err.message);
    return err.exitCode;
  }
  log.error(err instanceof Error ? err.stack ?? err.message : String(err));
  return 1;
}
