/**
 * stop: removes everything tsfirewall loaded, in both families, whatever the config says now (IPV6=off after
 * mirror, a broken config, another BACKEND than the one that loaded the rules), and nothing any other tool
 * loaded: each backend knows what is ours from the kernel itself. It waits for the verb lock like the others, so
 * it never interleaves with a start half-way through. The bans the kernel holds are saved first (bans/saved.ts),
 * for the next start to put back.
 */
import { removeElsewhere } from '../../apply/switch.js';
import { detectBackend } from '../../backend/choose.js';
import { saveBeforeStop } from '../../bans/upkeep.js';
import { banSets } from '../../compile/plan.js';
import { blocklistSets } from '../../compile/blocklists.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { resolveHostChoices } from '../../discover/choices.js';
import { log } from '../../log.js';
import { say } from '../../output.js';
import { exclusive } from '../../safety/exclusive.js';
import { stopDaemon } from '../../services/fail2ban.js';
import { forgetLoaded } from '../../state/loaded.js';
import type { Command } from '../context.js';

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
  // After the daemon (its chain bans are in its own database) and before the sets and chains are destroyed.
  const saved = config ? await saveBeforeStop(backend, config) : undefined;
  if (!config) log.warn('bans not saved: without a config there is no telling which sets and chains hold them');
  const sets = config ? [...banSets(config), ...blocklistSets(config)].map((s) => s.name) : [];
  await backend.remove({ families: ['ipv4', 'ipv6'], sets });
  // Rules another backend of ours loaded before BACKEND (or what auto picks, after an upgrade) changed still filter.
  const elsewhere = await removeElsewhere(backend.name, sets);
  forgetLoaded();
  say(`firewall stopped: tsfirewall's rules and ban sets removed, other tools' rules untouched (${[backend.label, ...elsewhere].join(', ')})` +
    `${saved ? `; ${saved}` : ''}`);
  return 0;
}, { bestEffort: true });

export default stop;
