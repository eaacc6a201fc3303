/**
 * mailguard enable|disable|status: the seed's SMTP defence ("accept all email, and internally redirect that for
 * unknown recipients to a bin") so usernames cannot be harvested from Postfix's "User unknown" replies.
 */
import { loadConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { log } from '../../log.js';
import { disableGuard, enableGuard, guardStatus } from '../../mailguard/guard.js';
import { formatStatus } from '../../mailguard/format.js';
import { postfixPrograms } from '../../mailguard/postconf.js';
import type { Command, Context } from '../context.js';

function configuredAccount(ctx: Context): string {
  const loaded = loadConfig(ctx.configPath);
  for (const w of loaded.warnings) log.warn(w);
  return loaded.config.mailguardAccount;
}

const ACTIONS: Readonly<Record<string, Command>> = {
  enable: async (ctx) => { await enableGuard(configuredAccount(ctx)); return 0; },
  disable: async () => { await disableGuard(); return 0; },
  /** LSB-style: 0 when the guard is on, 3 when it is off. */
  status: async (ctx) => {
    const s = await guardStatus(configuredAccount(ctx));
    process.stdout.write(ctx.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s));
    return s.enabled ? 0 : 3;
  },
};

const mailguard: Command = async (ctx) => {
  const [action, ...rest] = ctx.args;
  const run = action === undefined ? undefined : ACTIONS[action];
  if (!run || rest.length > 0) {
    throw new UsageError(action === undefined ? 'mailguard needs an action: enable, disable or status'
      : run ? `mailguard ${action} takes no arguments` : `unknown mailguard action "${action}" (enable, disable or status)`);
  }
  postfixPrograms(); // "not installed" (exit 5) before any config complaint
  return run(ctx);
};

export default mailguard;
