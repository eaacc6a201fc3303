import type { PacketOptions } from '../explain/probe.js';

/** What every verb receives: the parsed command line, nothing global. */
export interface Context {
  readonly verb: string;
  readonly args: readonly string[];
  /**
   * Every option as parsed, by its name in options.ts: a verb that adds an option there reads it here, with no
   * field of its own to add (the named fields below are the older verbs' view of the same values).
   */
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly configPath?: string;
  readonly json: boolean;
  /** ban/unban: the jail to act on (jail, service or ban name). */
  readonly jail?: string;
  /** unban: every address. */
  readonly all?: boolean;
  /** start/reload/restart --confirm SECONDS (validated by the verb). */
  readonly confirm?: string;
  /** start/reload/restart: skip the SSH lock-out guard; ban: allow a remembered (not live) admin address. */
  readonly force?: boolean;
  /** start/show/check: the boot-time ruleset, without the rules that need the interface's address. */
  readonly early?: boolean;
  /** reload: only when running and the rules would change (the address watcher's reload). */
  readonly ifChanged?: boolean;
  /** metrics: write to this file (atomically, for node_exporter) instead of stdout. */
  readonly textfile?: string;
  /** reload: print what would change (as `diff` does) and change nothing. */
  readonly dryRun?: boolean;
  /** explain: the packet, as typed (validated by the verb). */
  readonly packet?: PacketOptions;
  /** show: which file (and line) set each config key, instead of the ruleset. */
  readonly sources?: boolean;
}

/** A verb: resolves to the process exit code (LSB), or throws a TsfwError that carries one. */
export type Command = (ctx: Context) => Promise<number>;

