/**
 * The one-way flow every rule-loading verb shares: config text -> Config -> host facts -> Plan, plus the
 * backend that will carry it. Nothing here touches the kernel.
 */
import { detectBackend } from '../backend/choose.js';
import type { FirewallBackend } from '../backend/types.js';
import { compile } from '../compile/plan.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { resolveHostChoices } from '../discover/choices.js';
import { bootFacts, discoverHost, type BootHost, type HostFacts } from '../discover/host.js';
import { log } from '../log.js';
import type { Plan } from '../model.js';
import type { Context } from './context.js';
import { mark } from '../trace.js';

export interface Prepared {
  readonly config: Config;
  /** A BootHost with --early when the config fixes no address: the boot-time ruleset, nothing discovered. */
  readonly host: HostFacts | BootHost;
  readonly plan: Plan;
  readonly backend: FirewallBackend;
  /** The config file's settings as written, for the record of what was loaded. */
  readonly settings: Readonly<Record<string, string>>;
}

export async function prepare(ctx: Context): Promise<Prepared> {
  const loaded = loadConfig(ctx.configPath);
  mark('config read');
  for (const w of loaded.warnings) log.warn(w);
  const [host, backend] = await Promise.all([
    ctx.early ? bootFacts(loaded.config) : discoverHost(loaded.config), detectBackend(loaded.config.backend),
  ]);
  mark('host and backend');
  const config = resolveHostChoices(loaded.config, backend.name);
  const plan = compile(config, host);
  mark('compiled');
  for (const w of plan.warnings) log.warn(w);
  return { config, host, plan, backend, settings: loaded.values };
}
