/**
 * The verbs, in one table: how each is loaded (lazily: a verb's code is loaded only when it runs, which keeps
 * `status` from paying for `start`) and what it says about itself. `--help`, `help VERB`, `VERB --help`, the man
 * page's COMMANDS and the bash completion are all made from it (cli/help/), so a verb added here is documented
 * everywhere by that alone. `text` is paragraphs; `code` in backquotes is printed bold in the man page.
 */
import { SANDBOX_VERB } from '../backend/iptables/sandbox-verb.js';
import type { Command } from './context.js';

export interface VerbSpec {
  readonly load: () => Promise<{ default: Command }>;
  /** What follows the verb on the command line, as the synopsis shows it ("IP... | -"). */
  readonly args?: string;
  /** Words the first argument may be (completion offers them); 'verbs': the verbs themselves. */
  readonly words?: readonly string[] | 'verbs';
  /** One line for the list of verbs. */
  readonly summary: string;
  readonly text: readonly string[];
  /** Internal: run by tsfirewall itself, never listed. */
  readonly hidden?: boolean;
}

const startVerb = () => import('./commands/start.js');

export const VERBS: Readonly<Record<string, VerbSpec>> = {
  start: {
    load: startVerb,
    summary: 'load the firewall (atomically) and start the ban daemon',
    text: [
      'Load the rules atomically (nftables: one transaction, refused whole; iptables: after `iptables-restore --test` accepted them) and start fail2ban. ' +
        'Nothing is changed when the configuration or the host\'s address is unusable, and a ruleset that would lock ' +
        'out the SSH session running it is refused (unless `--force`).',
      'With `--early`: the boot-time step, before the network is configured. It loads the rules that need no address ' +
        '(everything except the anti-spoofing of MYIP, the local-subnet trust, the drop of traffic not addressed to ' +
        'this host and SNAT to MYIP), without reading the interface and without starting fail2ban; `status` reports ' +
        '`early` until a plain `start` replaces them atomically with the full ruleset.',
      'With `--confirm SECS`: roll back to the previous rules unless `tsfirewall confirm` (or a key on the terminal) ' +
        'comes within SECS, for admins working over the network.',
    ],
  },
  stop: {
    load: () => import('./commands/stop.js'),
    summary: 'open the host: remove our rules, stop the ban daemon',
    text: ['Open the host: remove what tsfirewall owns (its table, or its chains, jumps and ban sets) and nothing else, ' +
      'save the bans for the next start, and stop fail2ban. Works even with a broken configuration.'],
  },
  restart: {
    load: startVerb,
    summary: 'reload the rules and restart the ban daemon, with no open window',
    text: ['Replace the rules atomically and restart fail2ban; unlike the old `$0 stop; $0 start` there is no moment ' +
      'with the host open. Takes `--confirm` and `--force` as `start` does.'],
  },
  reload: {
    load: startVerb,
    summary: 'replace the rules atomically, keeping bans and established connections',
    text: [
      'Replace the rules atomically; bans, hit-rate tables and established connections survive.',
      'With `--if-changed`: only if it would change something. Exit 0 and change nothing when the firewall is not ' +
        'running or when the rules it would load are the loaded ones; otherwise an ordinary reload, as when `status` ' +
        'reports a `pending:` change or rules changed from outside. Over the rules of `start --early` it loads the ' +
        'full ruleset once the interface has its address.',
    ],
  },
  'force-reload': { load: startVerb, summary: 'same as reload', text: ['The same as `reload` (the LSB name).'] },
  status: {
    load: () => import('./commands/status.js'),
    summary: 'show the loaded rules, counters and hit-rate tables (exit 0 loaded, 3 stopped)',
    text: [
      'Show the loaded rules with their counters, grouped as the talk annotates them, the ban counts, the hit-rate ' +
        'tables and the state of the ban daemon. The first line names the state: `running`, `early` (only the rules ' +
        'of `start --early`), `degraded` (the ban daemon is not running), `tampered` (exit 1: the loaded rules were ' +
        'changed from outside, the problems named) or `stopped` (exit 3).',
      'A line starting `pending:` says that the loaded rules are no longer what `start` would load: the configuration ' +
        'was edited, or the interface\'s address changed, since they were loaded; `reload` applies it.',
    ],
  },
  check: {
    load: () => import('./commands/check.js'),
    summary: 'validate config and ruleset with the backend\'s own test; change nothing',
    text: ['Validate the configuration and the resulting ruleset with the backend\'s own test (`nft -c`, ' +
      '`iptables-restore --test`), and warn about rules an earlier rule makes unreachable; change nothing.'],
  },
  show: {
    load: () => import('./commands/show.js'),
    summary: 'print exactly what start would load',
    text: ['Print exactly what `start` would load, as the backend\'s own document (`nft -f`, `iptables-restore`); ' +
      'with `--early`, the boot-time ruleset.',
    'With `--sources`: which file and line set each configuration key (the main file, then the drop-ins ' +
      '`/etc/tsfirewall.d/*.conf` in lexical order, a later file winning) and the raw snippets in the order they are ' +
      'placed; nothing is compiled.'],
  },
  recent: {
    load: () => import('./commands/recent.js'),
    args: '[list | clear [NAME...]]',
    words: ['list', 'clear'],
    summary: 'list the hit-rate tables; "recent clear [NAME]" empties them',
    text: ['List the hit-rate limiter\'s remembered sources (the limiter\'s sets in `inet tsfirewall`, or ' +
      '/proc/net/xt_recent with an iptables backend), or empty them: all tables, or those NAMEd.'],
  },
  mailguard: {
    load: () => import('./commands/mailguard.js'),
    args: 'enable | disable | status',
    words: ['enable', 'disable', 'status'],
    summary: 'Postfix: unknown recipients go to a black hole, so usernames cannot be harvested',
    text: ['Postfix accepts mail for unknown users into a black-hole account (MAILGUARD_ACCOUNT), so usernames cannot ' +
      'be harvested from "User unknown" replies; through `postconf`, exactly reversible. `status` exits 0 when the ' +
      'guard is on, 3 when it is off.'],
  },
  bans: {
    load: () => import('./commands/bans.js'),
    summary: 'list the banned addresses per jail, read from the kernel\'s ban sets and chains',
    text: ['List the banned addresses per jail with the time each ban has left, read from the kernel\'s ban sets and ' +
      'chains (which hold fail2ban\'s bans and those of `ban` alike), without starting fail2ban\'s client.'],
  },
  ban: {
    load: () => import('./commands/ban.js'),
    args: 'IP|NET... | -',
    summary: 'ban addresses or networks (through fail2ban when it runs); "ban -" reads them from stdin',
    text: [
      'Ban the addresses in a jail (`--jail NAME`, needed when there are several): through `fail2ban-client` when ' +
        'fail2ban runs, so it lifts the ban after its ban time, otherwise (or for many addresses) straight into the ' +
        'kernel with the jail\'s ban time. `-` reads the addresses from standard input.',
      'Refused, and nothing banned (exit 2): this host\'s own addresses, trusted networks, the address of a live ' +
        'admin session, and a remembered admin address unless `--force`.',
      'A network (`198.51.100.0/24`, at most 65536 addresses) is refused when it contains any of those addresses or ' +
        'overlaps a trusted net; it goes straight into the kernel, as its addresses in a ban set or one rule in a ' +
        'ban chain.',
    ],
  },
  unban: {
    load: () => import('./commands/unban.js'),
    args: 'IP|NET... | --all',
    summary: 'lift bans in every jail (or --jail NAME); "unban --all" lifts them all',
    text: ['Lift the bans of the addresses (or every ban, with `--all`) in every jail or the one `--jail` names: in ' +
      'fail2ban, so it forgets them, and in the kernel; the addresses are also forgotten by the hit-rate limiter.'],
  },
  confirm: {
    load: () => import('./commands/confirm.js'),
    summary: 'keep the ruleset a "start/reload/restart --confirm N" is waiting on',
    text: ['Tell a `start`, `reload` or `restart --confirm SECS` waiting in another shell to keep its new ruleset. ' +
      'Exit 0 when one was waiting, 1 when none was (it may have rolled back already).'],
  },
  watch: {
    load: () => import('./commands/watch.js'),
    summary: 'follow this host\'s addresses (DHCP): reload --if-changed after each change',
    text: ['Follow this host\'s addresses and keep the rules in step: run `ip -o monitor address` and, one second ' +
      'after the last of a burst of address changes (a new DHCP lease), run `tsfirewall reload --if-changed`; also ' +
      'repair rules changed from outside. Runs until SIGTERM or SIGINT (exit 0); exits 1 if `ip monitor` ends. ' +
      'This is what tsfirewall-watch.service runs.'],
  },
  blocklist: {
    load: () => import('./commands/blocklist.js'),
    args: '[refresh [NAME...]]',
    words: ['refresh'],
    summary: 'the network blocklists; "blocklist refresh" downloads them and swaps the sets in',
    text: [
      'Without `refresh`: each network blocklist (`BLOCKLIST_<NAME>_FILE` or `_URL`), what the kernel holds of it ' +
        'and when it was last downloaded.',
      'With `refresh`: download the URL lists (bounded by `BLOCKLIST_FETCH_TIMEOUT` and `BLOCKLIST_FETCH_MAX_BYTES`), ' +
        're-read the files, and replace every list\'s sets at once (`ipset swap`, one nft transaction), the rules ' +
        'untouched; a failed download keeps the last good copy. tsfirewall-blocklist.timer runs it twice a day.',
    ],
  },
  explain: {
    load: () => import('./commands/explain.js'),
    args: '--src IP --proto tcp|udp|icmp [--dport N]',
    summary: 'which rule decides a packet, its verdict, and its path through the live chains',
    text: [
      'Name the rule that decides a packet and its verdict (`accept`, `drop` or `reject`), with the path through the ' +
        'live chains of every table: a ban-set hit (with the jail and the time left), the hit-rate limiter, trust, ' +
        'the policy. It reads the kernel\'s ruleset, so rules of other tools count. `--src` and `--proto` are needed; ' +
        '`--dst` defaults to this host\'s address, `--state` to `new`. With `--json`: verdict, rule, chain and path.',
      'Exit 0 with an answer, 2 for a bad option (named), 3 when nothing of ours is loaded.',
    ],
  },
  diff: {
    load: () => import('./commands/diff.js'),
    summary: 'the loaded rules against what a reload would load, with the config keys that cause each difference',
    text: [
      'Show, rule by rule and in the talk\'s groups, what a reload would add, remove and change, and which config keys ' +
        'or address changes cause each difference; rules changed in the kernel from outside are listed too. Colour ' +
        'on a terminal (not with NO_COLOR). `reload --dry-run` prints the same and changes nothing.',
      'Exit 0 when they are the same, 1 when they differ, 3 when the firewall is not running.',
    ],
  },
  fleet: {
    load: () => import('./commands/fleet.js'),
    args: '[status]',
    words: ['status'],
    summary: 'share bans with the other hosts of the fleet (NATS JetStream); runs until stopped',
    text: [
      'Run the fleet service (what tsfirewall-fleet.service runs): publish this host\'s bans and unbans from the outbox ' +
        'the ban verbs and fail2ban\'s action write, and apply the other hosts\' to the local ban sets with their ' +
        'remaining time, after the ban guard (trusted nets, own addresses, admin sessions) and the per-origin rate ' +
        'and cap. Exits 0 at once when FLEET_SERVERS is empty. See docs/fleet.md.',
      '`fleet status` (with `--json`): the engine connection, the hosts seen with their last event, bans sent, ' +
        'received and refused (with the reasons), and the replication lag, read from the service\'s status file.',
    ],
  },
  metrics: {
    load: () => import('./commands/metrics.js'),
    summary: 'the counters and state in the Prometheus text format (--textfile PATH: for node_exporter)',
    text: ['Print the firewall\'s counters and state in the Prometheus text format, every name starting ' +
      '`tsfirewall_`: packets and bytes per rule group and per service, drops by the policy, limiter hits, bans per ' +
      'jail, bans added and removed, the last apply\'s duration and result, the tamper and drift state. With ' +
      '`--textfile PATH` the text replaces PATH atomically, as tsfirewall-metrics.timer does for node_exporter\'s ' +
      'textfile collector. Reads only: takes no lock.'],
  },
  help: {
    load: () => import('./commands/help.js'),
    words: 'verbs',
    args: '[COMMAND]',
    summary: 'this list, or one command\'s help',
    text: ['Print the list of commands and options, or the help of one COMMAND (the same as `tsfirewall COMMAND --help`).'],
  },
  [SANDBOX_VERB]: { load: () => import('./commands/sandbox.js'), summary: '', text: [], hidden: true },
};

/** The verbs a user can name, in the table's order. */
export const listedVerbs = (): string[] => Object.keys(VERBS).filter((v) => !VERBS[v]!.hidden);
