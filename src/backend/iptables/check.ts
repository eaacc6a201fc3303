/**
 * `check` on iptables: the plan's documents pass `iptables-restore --test`, and nothing in this namespace changes.
 * Before the first start the ban sets do not exist yet and --test refuses rules naming them, so the test then runs
 * in a throwaway network namespace (sandbox.ts). Its latency is its chain of programs, so the usual case is one
 * stage: both --test runs and the ipset listing at once.
 */
import { ApplyError } from '../../errors.js';
import { snippetRefusal } from '../snippet-errors.js';
import type { RunResult } from '../../exec/run.js';
import type { Family, Plan } from '../../model.js';
import { readSetHeaders } from './ipset-list.js';
import { ipsetCreateScript } from './ipset-text.js';
import type { IptablesPrograms } from './programs.js';
import { hostTestLeavesTrace, testInSandbox } from './sandbox.js';
import { restoreTexts, testRestore } from './transaction.js';

export async function checkPlan(p: IptablesPrograms, plan: Plan): Promise<void> {
  const tests = (Object.entries(restoreTexts(plan, {})) as [Family, string][])
    .map(([family, text]) => ({ family, restore: p.restore[family], text }));
  const what = 'iptables-restore --test rejects the ruleset';
  const failed = (r: RunResult) => {
    const reason = r.stderr.trim() || r.spawnError || `exit code ${r.exitCode}`;
    // The family that failed is not told apart in the sandbox's answer: the first document the line fits names it.
    return tests.map((t) => snippetRefusal(what, reason, t.text)).find((e) => e !== undefined) ?? new ApplyError(`${what}: ${reason}`);
  };
  const testHere = () => Promise.all(tests.map((t) => testRestore(p, t.family, t.text)));
  const names = plan.ipsets.map((s) => s.name);
  // The tests start beside the listing that says whether they can pass here at all: with a ban set missing they
  // fail for that reason alone, so their results are dropped and the sandbox answers. Unless testing here would
  // itself leave a trace (legacy registering a table): then they wait for the listing, as check changes nothing.
  const early = names.length === 0 || !hostTestLeavesTrace(p, tests);
  const [sets, results] = await Promise.all([
    names.length > 0 ? readSetHeaders() : Promise.resolve(undefined),
    early ? testHere() : Promise.resolve(undefined),
  ]);
  if (names.some((n) => !sets?.has(n))) {
    const result = await testInSandbox({ ipsetScript: ipsetCreateScript(plan.ipsets), tests });
    if (result.exitCode !== 0) throw failed(result);
    return;
  }
  const failure = (results ?? (await testHere())).find((r) => r.exitCode !== 0);
  if (failure) throw failed(failure);
}
