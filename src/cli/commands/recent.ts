/** recent: the hit-rate tables; `recent clear [NAME...]` empties them (the seed's `echo clear > ...`). */
import { detectBackend } from '../../backend/choose.js';
import { loadConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { log } from '../../log.js';
import { say } from '../../output.js';
import { formatRecent } from '../../status/format.js';
import type { Command } from '../context.js';

const recent: Command = async (ctx) => {
  const [action, ...names] = ctx.args;
  if (action !== undefined && action !== 'list' && action !== 'clear') throw new UsageError(`unknown recent action "${action}" (list or clear)`);
  let wanted: Parameters<typeof detectBackend>[0] = 'auto';
  try { wanted = loadConfig(ctx.configPath).config.backend; } catch (err) { log.debug(`config unusable: ${(err as Error).message}`); }
  const backend = await detectBackend(wanted);
  if (action === 'clear') {
    const cleared = await backend.clearLimiter(names);
    say(cleared.length > 0 ? `cleared ${cleared.join(', ')}` : 'no hit-rate tables to clear');
    return 0;
  }
  const tables = await backend.readLimiter();
  process.stdout.write(ctx.json ? JSON.stringify(tables, null, 2) + '\n' : formatRecent(tables) || 'no hit-rate tables\n');
  return 0;
};

export default recent;
