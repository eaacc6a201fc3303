/**
 * Validation in a throwaway network namespace. `iptables-restore --test` refuses rules that name ipsets which do
 * not exist yet; creating them here would change the host, so the sets and the test go into `unshare --net`,
 * which vanishes with the process. There the documents are also really loaded: iptables-nft's --test only parses,
 * and a rule the kernel refuses shows up only on a real load. The payload travels on stdin: nothing from config
 * reaches an argv or a shell.
 */
import { readFileSync } from 'node:fs';
import { which } from '../../exec/which.js';
import type { IptablesPrograms } from './programs.js';
import { ApplyError } from '../../errors.js';
import { run, type RunResult } from '../../exec/run.js';
import type { Family } from '../../model.js';
import { tableNames } from './parse.js';
import { SANDBOX_VERB } from './sandbox-verb.js';

export interface SandboxPayload {
  readonly ipsetScript: string;
  readonly tests: readonly { readonly restore: string; readonly text: string }[];
}

export async function testInSandbox(payload: SandboxPayload): Promise<RunResult> {
  const unshare = which('unshare');
  if (!unshare) throw new ApplyError('cannot test a ruleset whose ban sets do not exist yet without unshare (util-linux); run start');
  return run(unshare, ['--net', '--', process.execPath, process.argv[1]!, SANDBOX_VERB], { input: JSON.stringify(payload) });
}

/**
 * Inside the namespace: create the sets, --test every document, then load each; the families side by side (the
 * namespace is ours alone). The first failure's stderr, in family order, is the answer.
 */
export async function runSandboxTests(stdin: string): Promise<number> {
  const payload = JSON.parse(stdin) as SandboxPayload;
  const ipset = which('ipset');
  if (payload.ipsetScript && ipset) {
    const r = await run(ipset, ['restore', '-exist'], { input: payload.ipsetScript });
    if (r.exitCode !== 0) { process.stderr.write(r.stderr); return 1; }
  }
  for (const args of [['-w', '5', '--test'], ['-w', '5']]) {
    const results = await Promise.all(payload.tests.map((t) => run(t.restore, args, { input: t.text })));
    const failed = results.find((r) => r.exitCode !== 0);
    if (failed) { process.stderr.write(failed.stderr); return 1; }
  }
  return 0;
}

/**
 * Whether `--test` in this namespace would change it: iptables-legacy registers, for good, every table a document
 * names, even one that is only tested (an empty open table then shows in iptables-save). nft's --test only parses.
 */
export function hostTestLeavesTrace(backend: Pick<IptablesPrograms, 'flavour'>, tests: readonly { family: Family; text: string }[],
  proc = '/proc/net'): boolean {
  if (backend.flavour !== 'legacy') return false;
  return tests.some(({ family, text }) => {
    let registered: string[];
    try {
      registered = readFileSync(`${proc}/${family === 'ipv4' ? 'ip' : 'ip6'}_tables_names`, 'utf8').split('\n');
    } catch {
      return true;
    }
    return tableNames(text).some((table) => !registered.includes(table));
  });
}
