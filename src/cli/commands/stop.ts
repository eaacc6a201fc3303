/**
 * stop: always opens the host if the backend's tools exist, even when the config is broken (then both families are
 * opened and no ban sets outside the backend's own table are removed, since we cannot know their names). It waits
 * for the verb lock like the others, so it never interleaves with a start that is half-way through its apply.
 */
import { detectBackend } from '../../backend/choose.js';
import { banSets } from '../../compile/plan.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { resolveHostChoices } from '../../discover/choices.js';
import { log } from '../../log.js';
import { say } from '../../output.js';
import { exclusive } from '../../safety/exclusive.js';
import { stopDaemon } from '../../services/fail2ban.js';
import { forgetLoaded } from '../../state/loaded.js';
import type { Command } from '../context.js';
import { managedFamilies } from '../pipeline.js';

const stop: Command = async (ctx) => exclusive(async () => {
  let loaded: Config | undefined;
  try {
    loaded = loadConfig(ctx.configPath).config;
  } catch (err) {
    log.warn(`config unusable (${(err as Error).message.split('\n')[0]}); opening the firewall anyway`);
  }
  const backend = await detectBackend(loaded?.backend ?? 'auto');
  const config = loaded && resolveHostChoices(loaded, backend.name);
  if (config) await stopDaemon(config);
  await backend.remove({ families: config ? managedFamilies(config) : ['ipv4', 'ipv6'], sets: config ? banSets(config).map((s) => s.name) : [] });
  forgetLoaded();
  say(`firewall stopped: all policies ACCEPT, rules flushed (${backend.label})`);
  return 0;
}, { bestEffort: true });

export default stop;
