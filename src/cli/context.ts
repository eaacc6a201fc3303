/** What every verb receives: the parsed command line, nothing global. */
export interface Context {
  readonly verb: string;
  readonly args: readonly string[];
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
  /** show: which file (and line) set each config key, instead of the ruleset. */
  readonly sources?: boolean;
}

/** A verb: resolves to the process exit code (LSB), or throws a TsfwError that carries one. */
export type Command = (ctx: Context) => Promise<number>;

