/** recent: the hit-rate tables; `recent clear [NAME...]` empties them (the seed's `echo clear > ...`). */
import { UsageError } from '../../errors.js';
import { formatRecent } from '../../status/format.js';
import { clearRecent, readRecentTables } from '../../status/recent.js';
import type { Command } from '../context.js';
import { say } from '../output.js';

const recent: Command = async (ctx) => {
  const [action, ...names] = ctx.args;
  if (action === 'clear') {
    const cleared = clearRecent(names);
    say(cleared.length > 0 ? `cleared ${cleared.join(', ')}` : 'no hit-rate tables to clear');
    return 0;
  }
  if (action !== undefined && action !== 'list') throw new UsageError(`unknown recent action "${action}" (list or clear)`);
  const tables = readRecentTables();
  process.stdout.write(ctx.json ? JSON.stringify(tables, null, 2) + '\n' : formatRecent(tables) || 'no hit-rate tables\n');
  return 0;
};

export default recent;
