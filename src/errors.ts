/**
 * Every failure the CLI can report carries its LSB exit code, so the single top-level catch in the CLI
 * can map errors to exit codes without knowing which module threw.
 * LSB: 1 generic, 2 bad arguments, 3 unimplemented / not running (status), 5 not installed, 6 not configured.
 */
export class TsfwError extends Error {
  constructor(message: string, readonly exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad command line: the user typed something we cannot parse. */
export class UsageError extends TsfwError {
  constructor(message: string) { super(message, 2); }
}

/**
 * One problem in the config; `key` and `line` point the admin at the exact place, `file` when it is not the main
 * config file (a drop-in of /etc/tsfirewall.d, a raw snippet).
 */
export interface ConfigProblem { key?: string; line?: number; file?: string; message: string }

/** The config cannot be used: nothing is applied. Lists every problem at once, not just the first. */
export class ConfigError extends TsfwError {
  constructor(readonly problems: readonly ConfigProblem[], readonly file?: string) {
    super(ConfigError.format(problems, file), 6);
  }
  static format(problems: readonly ConfigProblem[], file?: string): string {
    const where = (p: ConfigProblem) =>
      [p.file ?? file, p.line === undefined ? undefined : `line ${p.line}`].filter(Boolean).join(':');
    return problems
      .map((p) => `${where(p) ? where(p) + ': ' : ''}${p.key ? p.key + ': ' : ''}${p.message}`)
      .join('\n');
  }
}

/**
 * `ban` was given an address no ban may take (the admin's live session, the host itself, a trusted net...): exit 2,
 * as for any argument the verb will not take, without the usage text (the arguments were well-formed).
 */
export class BanRefusedError extends TsfwError {
  constructor(message: string) { super(message, 2); }
}

/** The firewall is not loaded (LSB "program is not running"): a verb that reads what is loaded has nothing to read. */
export class NotRunningError extends TsfwError {
  constructor(message: string) { super(message, 3); }
}

/** A program we need (iptables, fail2ban, postfix...) is not on this host. */
export class NotInstalledError extends TsfwError {
  constructor(message: string) { super(message, 5); }
}

/** Host facts we need (interface, address) are missing: like a bad config, nothing is applied. */
export class DiscoveryError extends TsfwError {
  constructor(message: string) { super(message, 6); }
}

/** Loading a ruleset failed; the previous ruleset was restored (or the message says it was not). */
export class ApplyError extends TsfwError {
  constructor(message: string, options?: { cause?: unknown }) { super(message, 1, options); }
}
