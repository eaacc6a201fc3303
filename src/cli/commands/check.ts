/**
 * check: validates the config, host facts and the rendered ruleset with `iptables-restore --test`, and warns
 * about rules an earlier rule makes unreachable. Changes nothing: before the first start, when the ban sets do
 * not exist yet, the test runs in a throwaway network namespace. Its latency is its chain of programs, so the
 * usual case is one stage: both --test runs and the ipset listing at once.
 */
import { restoreTexts, testRestore } from '../../apply/apply.js';
import { readSetHeaders } from '../../discover/ipsets.js';
import { ipsetCreateScript } from '../../render/ipset.js';
import { hostTestLeavesTrace, testInSandbox } from '../../apply/sandbox.js';
import { ApplyError } from '../../errors.js';
import type { RunResult } from '../../exec/run.js';
import type { Command } from '../context.js';
import { say } from '../output.js';
import { prepare } from '../pipeline.js';

const check: Command = async (ctx) => {
  const { plan, backend } = await prepare(ctx);
  const tests = [...restoreTexts(plan, new Map())].map(([family, text]) => ({ family, restore: backend.restore[family], text }));
  const failed = (r: RunResult) => new ApplyError(`iptables-restore --test rejects the ruleset: ${r.stderr.trim() || r.spawnError}`);
  const testHere = () => Promise.all(tests.map((t) => testRestore(backend, t.family, t.text)));
  const names = plan.ipsets.map((s) => s.name);
  // The tests start beside the listing that says whether they can pass here at all: with a ban set missing they
  // fail for that reason alone, so their results are dropped and the sandbox answers. Unless testing here would
  // itself leave a trace (legacy registering a table): then they wait for the listing, as check changes nothing.
  const early = names.length === 0 || !hostTestLeavesTrace(backend, tests);
  const [sets, results] = await Promise.all([
    names.length > 0 ? readSetHeaders() : Promise.resolve(undefined),
    early ? testHere() : Promise.resolve(undefined),
  ]);
  if (names.some((n) => !sets?.has(n))) {
    const result = await testInSandbox({ ipsetScript: ipsetCreateScript(plan.ipsets), tests });
    if (result.exitCode !== 0) throw failed(result);
  } else {
    const failure = (results ?? (await testHere())).find((r) => r.exitCode !== 0);
    if (failure) throw failed(failure);
  }
  say(`config ok: ${tests.map((t) => t.family).join(' and ')} rulesets pass iptables-restore --test` +
    (plan.warnings.length > 0 ? `; ${plan.warnings.length} warning(s) above` : ''));
  return 0;
};

export default check;
