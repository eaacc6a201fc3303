/**
 * check: validates the config, host facts and the rendered ruleset with `iptables-restore --test`, and warns
 * about rules an earlier rule makes unreachable. Changes nothing: before the first start, when the ban sets do
 * not exist yet, the test runs in a throwaway network namespace.
 */
import { restoreTexts } from '../../apply/apply.js';
import { readSetHeaders } from '../../apply/ipset-headers.js';
import { ipsetCreateScript } from '../../apply/ipsets.js';
import { testInSandbox } from '../../apply/sandbox.js';
import { ApplyError } from '../../errors.js';
import { run, type RunResult } from '../../exec/run.js';
import type { Command } from '../context.js';
import { say } from '../output.js';
import { prepare } from '../pipeline.js';

const check: Command = async (ctx) => {
  const { plan, backend } = await prepare(ctx);
  const tests = [...restoreTexts(plan, new Map())].map(([family, text]) => ({ family, restore: backend.restore[family], text }));
  const failed = (r: RunResult) => new ApplyError(`iptables-restore --test rejects the ruleset: ${r.stderr.trim() || r.spawnError}`);
  if (await missingSets(plan.ipsets.map((s) => s.name))) {
    const result = await testInSandbox({ ipsetScript: ipsetCreateScript(plan.ipsets), tests });
    if (result.exitCode !== 0) throw failed(result);
  } else {
    for (const t of tests) {
      const result = await run(t.restore, ['-w', '5', '--test'], { input: t.text });
      if (result.exitCode !== 0) throw failed(result);
    }
  }
  say(`config ok: ${tests.map((t) => t.family).join(' and ')} rulesets pass iptables-restore --test` +
    (plan.warnings.length > 0 ? `; ${plan.warnings.length} warning(s) above` : ''));
  return 0;
};

async function missingSets(names: readonly string[]): Promise<boolean> {
  if (names.length === 0) return false;
  const present = await readSetHeaders();
  return names.some((n) => !present?.has(n));
}

export default check;
