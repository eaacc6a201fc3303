/**
 * check: validates the config, host facts and the backend's document (iptables-restore --test, nft -c), and warns
 * about rules an earlier rule makes unreachable. Changes nothing: how the backend tests without a trace (a
 * throwaway namespace before the ban sets exist, for iptables) is its own business.
 */
import { say } from '../../output.js';
import type { Command } from '../context.js';
import { prepare } from '../pipeline.js';

const check: Command = async (ctx) => {
  const { plan, backend } = await prepare(ctx);
  await backend.check(plan);
  const families = plan.rulesets.map((r) => r.family).join(' and ');
  say(`config ok: ${families} rulesets pass ${backend.testedBy}` +
    (plan.warnings.length > 0 ? `; ${plan.warnings.length} warning(s) above` : ''));
  return 0;
};

export default check;
