/** help [COMMAND]: the list of commands and options, or one command's help (cli/help/text.ts). */
import { UsageError } from '../../errors.js';
import type { Command } from '../context.js';
import { usage, verbHelp } from '../help/text.js';
import { listedVerbs } from '../verbs.js';

const help: Command = async (ctx) => {
  const [verb, ...rest] = ctx.args;
  if (rest.length > 0) throw new UsageError('help takes at most one command');
  if (verb !== undefined && !listedVerbs().includes(verb)) throw new UsageError(`no command "${verb}" (help lists them)`);
  process.stdout.write(verb === undefined ? usage() : verbHelp(verb));
  return 0;
};

export default help;
