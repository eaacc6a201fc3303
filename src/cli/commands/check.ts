/**
 * check: validates the config, host facts and the rendered ruleset with `iptables-restore --test`, and warns
 * about rules an earlier rule makes unreachable. Changes nothing.
 */
import { restoreTexts } from '../../apply/apply.js';
import { ApplyError } from '../../errors.js';
import { run } from '../../exec/run.js';
import { log } from '../../log.js';
import type { Command } from '../context.js';
import { prepare } from '../pipeline.js';

const check: Command = async (ctx) => {
  const { plan, backend } = await prepare(ctx);
  for (const [family, text] of restoreTexts(plan, new Map())) {
    const result = await run(backend.restore[family], ['-w', '5', '--test'], { input: text });
    if (result.exitCode !== 0) {
      throw new ApplyError(`${backend.restore[family]} --test rejects the ${family} ruleset: ${result.stderr.trim() || result.spawnError}`);
    }
  }
  log.info(`config ok: ${plan.rulesets.length} families pass iptables-restore --test` +
    (plan.warnings.length > 0 ? `, ${plan.warnings.length} warning(s) above` : ''));
  return 0;
};

export default check;
