/**
 * The command line's options, in one table: main.ts parses with it (parseArgs reads `type` and `short`), the
 * boot loader (boot.ts) uses it to find the verb before any of the CLI is loaded, so both always agree on which
 * options take a value; and its help text is what `--help`, `help VERB`, the man page and the bash completion
 * say about each option (cli/help/). `verbs`: the verbs an option goes with (main.ts refuses it with any other);
 * absent, it goes with every verb. `arg` names an option's value in the help.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly arg?: string;
  readonly help: string;
  readonly verbs?: readonly string[];
}

const START_VERBS = ['start', 'reload', 'force-reload', 'restart'];

export const OPTIONS = {
  config: { type: 'string', short: 'c', arg: 'PATH', help: 'config file (default /etc/default/tsfirewall, or $TSFIREWALL_CONFIG)' },
  json: { type: 'boolean', short: 'j', help: 'machine-readable output (status, recent, mailguard status, bans)' },
  jail: { type: 'string', arg: 'NAME', help: 'ban/unban: which jail (tsfw-ssh, ssh and SSH name the same one)', verbs: ['ban', 'unban'] },
  all: { type: 'boolean', help: 'unban: every banned address', verbs: ['unban'] },
  confirm: {
    type: 'string', arg: 'SECS', verbs: START_VERBS,
    help: 'start/reload/restart: roll back unless `tsfirewall confirm` (or a key on the terminal) comes within SECS (1-3600)',
  },
  force: {
    type: 'boolean', verbs: [...START_VERBS, 'ban'],
    help: 'start/reload/restart: load a ruleset even if it would lock out this SSH session; ban: ban a remembered admin ' +
      'address (never a live session, this host or a trusted net)',
  },
  early: {
    type: 'boolean', verbs: ['start', 'show', 'check'],
    help: 'start/show/check: the boot-time ruleset, for before the network is up: every rule but those that need the ' +
      'interface\'s address (a later `start` adds them); no ban daemon',
  },
  'if-changed': {
    type: 'boolean', verbs: ['reload', 'force-reload'],
    help: 'reload: only if the firewall runs and its rules would change (config edited, address moved, rules changed from outside)',
  },
  sources: {
    type: 'boolean', verbs: ['show'],
    help: 'show: which file and line set each config key (the main file, then /etc/tsfirewall.d/*.conf), and the raw snippets in the order they are placed',
  },
  textfile: {
    type: 'string', arg: 'PATH', verbs: ['metrics'],
    help: 'metrics: write to PATH atomically (for node_exporter\'s textfile collector) instead of stdout',
  },
  'dry-run': { type: 'boolean', verbs: ['reload', 'force-reload'], help: 'reload: show what it would change (as `diff` does) and change nothing' },
  src: { type: 'string', arg: 'IP', verbs: ['explain'], help: 'explain: the packet\'s source address' },
  dst: { type: 'string', arg: 'IP', verbs: ['explain'], help: 'explain: its destination (default: this host\'s address)' },
  proto: { type: 'string', arg: 'PROTO', verbs: ['explain'], help: 'explain: tcp, udp or icmp' },
  dport: { type: 'string', arg: 'PORT', verbs: ['explain'], help: 'explain: the destination port (tcp, udp)' },
  iface: { type: 'string', arg: 'IF', verbs: ['explain'], help: 'explain: the interface it arrives on (default: the route to the source)' },
  state: { type: 'string', arg: 'STATE', verbs: ['explain'], help: 'explain: new (default) or established' },
  verbose: { type: 'boolean', short: 'v', help: 'debug logging, including every command run' },
  help: { type: 'boolean', short: 'h', help: 'this help; with a command, that command\'s help' },
  version: { type: 'boolean', short: 'V', help: 'print the version' },
} as const satisfies Readonly<Record<string, OptionSpec>>;

export type OptionName = keyof typeof OPTIONS;

/** The verb a command line names, without judging it (unknown options and verbs are main.ts's business). */
export function verbOf(argv: readonly string[]): string | undefined {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false }).positionals[0];
  } catch {
    return undefined;
  }
}
