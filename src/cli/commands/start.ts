/**
 * start, reload, force-reload and restart. All four replace the ruleset atomically: unlike the seed's
 * `$0 stop; $0 start`, restart never leaves the host open between the two. Only the ban daemon handling differs.
 */
import { applyPlan } from '../../apply/apply.js';
import { loadModules } from '../../apply/modules.js';
import { log } from '../../log.js';
import { startDaemon, stopDaemon } from '../../services/fail2ban.js';
import type { Command } from '../context.js';
import { say } from '../output.js';
import { prepare } from '../pipeline.js';

const start: Command = async (ctx) => {
  const { config, host, plan, backend } = await prepare(ctx);
  for (const w of await loadModules(plan.modules)) log.warn(w);
  if (ctx.verb === 'restart') await stopDaemon(config);
  await applyPlan(plan, backend);
  const rules = plan.rulesets.reduce((n, r) => n + r.tables.reduce((m, t) => m + t.rules.length, 0), 0);
  say(`firewall ${ctx.verb === 'start' ? 'started' : 'reloaded'}: ${rules} rules for ${host.myip}/${host.prefix}` +
    `${host.iface ? ` on ${host.iface}` : ''} (iptables-${backend.name})`);
  const daemon = await startDaemon(config, { verb: ctx.verb, host, backend });
  for (const w of daemon.warnings) log.warn(w);
  if (daemon.ok) say(daemon.message);
  else log.warn(daemon.message);
  return daemon.ok ? 0 : 1;
};

export default start;
