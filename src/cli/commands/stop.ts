/**
 * stop: always opens the host if iptables exists, even when the config is broken (then both families are
 * opened and no ban sets are removed, since we cannot know their names). It waits for the verb lock like the
 * others, so it never interleaves with a start that is half-way through its apply.
 */
import { destroyIpsets, openFirewall } from '../../apply/stop.js';
import { banSets } from '../../compile/plan.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { detectBackend } from '../../discover/backend.js';
import { log } from '../../log.js';
import { exclusive } from '../../safety/exclusive.js';
import { forgetLoaded } from '../../state/loaded.js';
import { stopDaemon } from '../../services/fail2ban.js';
import type { Command } from '../context.js';
import { say } from '../output.js';
import { managedFamilies, resolveHostChoices } from '../pipeline.js';

const stop: Command = async (ctx) => exclusive(async () => {
  let config: Config | undefined;
  try {
    config = resolveHostChoices(loadConfig(ctx.configPath).config);
  } catch (err) {
    log.warn(`config unusable (${(err as Error).message.split('\n')[0]}); opening the firewall anyway`);
  }
  const backend = await detectBackend(config?.backend ?? 'auto');
  if (config) await stopDaemon(config);
  await openFirewall(backend, config ? managedFamilies(config) : ['ipv4', 'ipv6']);
  if (config) {
    await destroyIpsets(banSets(config).map((s) => s.name));
  }
  forgetLoaded();
  say('firewall stopped: all policies ACCEPT, rules flushed');
  return 0;
}, { bestEffort: true });

export default stop;
