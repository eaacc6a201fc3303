/**
 * fleet: the fleet service (tsfirewall-fleet.service), which shares this host's bans with the others through NATS
 * JetStream and applies theirs here (docs/fleet.md); runs until SIGTERM or SIGINT. `fleet status [--json]` reads
 * what the service last wrote to the state directory, without connecting to it or to the engine: exit 0 when the
 * service runs, 3 when it does not, 6 when no fleet is configured.
 */
import { detectBackend } from '../../backend/choose.js';
import { loadConfig } from '../../config/load.js';
import { resolveHostChoices } from '../../discover/choices.js';
import { UsageError } from '../../errors.js';
import { log } from '../../log.js';
import { say } from '../../output.js';
import { formatStatus, readStatus, serviceAlive } from '../../services/fleet/status.js';
import { stateDir } from '../../state/dirs.js';
import type { Command, Context } from '../context.js';

const status = async (ctx: Context): Promise<number> => {
  const config = loadConfig(ctx.configPath).config;
  const s = readStatus();
  const alive = s !== undefined && serviceAlive(s);
  if (ctx.json) {
    process.stdout.write(JSON.stringify({ configured: config.fleet !== undefined, running: alive, status: s ?? null }, null, 2) + '\n');
  } else if (!config.fleet) {
    say('fleet not configured (FLEET_SERVERS is empty)');
  } else if (!s) {
    say(`fleet ${config.fleet.name}: the fleet service has not run on this host (start tsfirewall-fleet.service, or run "tsfirewall fleet")`);
  } else {
    process.stdout.write(formatStatus(s, alive));
  }
  return !config.fleet ? 6 : alive ? 0 : 3;
};

const serve = async (ctx: Context): Promise<number> => {
  const loaded = loadConfig(ctx.configPath).config;
  if (!loaded.fleet) {
    say('fleet not configured (FLEET_SERVERS is empty): nothing to do');
    return 0;
  }
  const backend = await detectBackend(loaded.backend);
  const config = resolveHostChoices(loaded, backend.name);
  const { startFleet } = await import('../../services/fleet/service.js');
  // A long-running service: a rejection inside the client (an abandoned consumer still retrying) is logged, and
  // must not end the process the way Node ends a one-shot verb.
  process.on('unhandledRejection', (err) => log.warn(`fleet: ${(err as Error)?.message ?? String(err)}`));
  const service = startFleet(config, backend, stateDir());
  say(`fleet ${config.fleet!.name}: sharing bans through ${config.fleet!.servers.join(', ')}`);
  const ended = await new Promise<'signal' | Error | undefined>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve('signal'));
    service.done.then(() => resolve(undefined), (err: Error) => resolve(err));
  });
  await service.stop();
  if (ended instanceof Error) throw ended;
  if (ended === undefined) { log.error('fleet: the connection to the engine was closed'); return 1; }
  return 0;
};

const fleet: Command = async (ctx) => {
  const [sub, ...rest] = ctx.args;
  if (rest.length > 0 || (sub !== undefined && sub !== 'status')) throw new UsageError(`fleet takes no argument or "status", got "${ctx.args.join(' ')}"`);
  return sub === 'status' ? status(ctx) : serve(ctx);
};

export default fleet;
