/** show: prints exactly what `start` would load (ban sets, then one iptables-restore document per family). */
import { restoreTexts, snapshot } from '../../apply/apply.js';
import { ipsetCreateScript } from '../../render/ipset.js';
import { log } from '../../log.js';
import type { Command } from '../context.js';
import { prepare } from '../pipeline.js';

const show: Command = async (ctx) => {
  const { plan, backend } = await prepare(ctx);
  const families = plan.rulesets.map((r) => r.family);
  // The live ruleset is read only to carry the ban chains' entries over, as start does; without access, show
  // still prints the ruleset itself.
  const before = await snapshot(backend, families).catch((err: Error) => {
    log.debug(`not reading the live ruleset: ${err.message}`);
    return new Map();
  });
  const out: string[] = [];
  if (plan.ipsets.length > 0) out.push('# ipset restore -exist', ipsetCreateScript(plan.ipsets));
  for (const [family, text] of restoreTexts(plan, before)) {
    out.push(`# ${backend.restore[family]}  (${family})`, text);
  }
  process.stdout.write(out.join('\n'));
  return 0;
};

export default show;
