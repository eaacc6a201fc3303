/**
 * The CLI entry: parse argv, look the verb up in the lazy command table (verbs.ts: each verb's code is loaded only
 * when it runs, which keeps `status` from paying for `start`), answer `--help` from the same table, and map every
 * error to its LSB exit code in one place.
 */
import { parseArgs } from 'node:util';
import { TsfwError, UsageError } from '../errors.js';
import { flushLogs, log, setQuiet, setVerbose } from '../log.js';
import type { Context } from './context.js';
import { usage, verbHelp } from './help/text.js';
import { OPTIONS, type OptionSpec } from './options.js';
import { VERBS } from './verbs.js';
import type { PacketOptions } from '../explain/probe.js';
import { mark } from '../trace.js';
import { VERSION } from '../version.js';

/**
 * `--early` and `--if-changed` change what a verb loads; `--jail`... only mean something to some verbs: any of
 * them with another verb is a mistake the admin should hear about, not an option silently ignored.
 */
function checkOptions(verb: string, values: Readonly<Record<string, unknown>>): void {
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    if (values[name] !== undefined && spec.verbs !== undefined && !spec.verbs.includes(verb)) {
      throw new UsageError(`--${name} goes with ${spec.verbs.join(', ')}, not ${verb}`);
    }
  }
}

/** explain's packet, option by option. */
const PACKET_OPTIONS = ['src', 'dst', 'proto', 'dport', 'iface', 'state'] as const;

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
    if (values.version) { process.stdout.write(`tsfirewall ${VERSION}\n`); return 0; }
    const [verb, ...args] = positionals;
    const spec = verb === undefined ? undefined : VERBS[verb];
    if (values.help) {
      if (verb !== undefined && (!spec || spec.hidden)) throw new UsageError(`unknown command "${verb}"`);
      process.stdout.write(verb === undefined ? usage() : verbHelp(verb));
      return 0;
    }
    if (!spec) throw new UsageError(verb === undefined ? 'no command given' : `unknown command "${verb}"`);
    if (values.json) setQuiet();
    setVerbose(values.verbose ?? false);
    checkOptions(verb!, values);
    const ctx: Context = { verb: verb!, args, options: values, configPath: values.config, json: values.json ?? false,
      jail: values.jail, all: values.all, confirm: values.confirm, force: values.force ?? false, early: values.early ?? false,
      ifChanged: values['if-changed'] ?? false, textfile: values.textfile, dryRun: values['dry-run'] ?? false, sources: values.sources ?? false,
      packet: Object.fromEntries(PACKET_OPTIONS.filter((o) => values[o] !== undefined).map((o) => [o, values[o]])) as PacketOptions };
    const command = (await spec.load()).default;
    mark('verb loaded');
    return await command(ctx);
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`tsfirewall: ${(err as Error).message}\n${usage()}`);
    return 2;
  }
  if (err instanceof TsfwError) {
    log.error(err.message);
    return err.exitCode;
  }
  log.error(err instanceof Error ? err.stack ?? err.message : String(err));
  return 1;
}
