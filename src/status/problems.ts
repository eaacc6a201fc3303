/**
 * How a chain of ours differs from what was loaded into it, in words status prints: the one comparison both
 * backends' intact() make once each has reduced its rules to steps. A step is a rule's marker group and what it
 * does (its target or verdict): a rule's matches are printed differently by each tool than they were written
 * (iptables-save adds `--mask`, reorders ctstate), but which rules of which group end in which verdict, in which
 * order, is what keeps the host closed, and reads the same from both sides.
 */

export interface Step {
  /** The tsfw:<group> marker; absent for a rule someone else wrote. */
  readonly group?: string;
  /** The target or verdict ("DROP", "tsfw-input", "accept", "jump input4"). */
  readonly does: string;
  /** The rule as its tool prints it: named when the rule is foreign. */
  readonly text?: string;
}

/** Foreign rules named one by one, up to this many per chain; a flood of them is counted after that. */
const NAMED_FOREIGN = 3;

const key = (s: Step) => `${s.group ?? ''} ${s.does}`;

function countBy(steps: readonly Step[]): Map<string, { step: Step; n: number }> {
  const out = new Map<string, { step: Step; n: number }>();
  for (const s of steps) {
    const k = key(s);
    const was = out.get(k);
    out.set(k, { step: s, n: (was?.n ?? 0) + 1 });
  }
  return out;
}

const rules = (n: number) => `${n} rule${n === 1 ? '' : 's'}`;

/** What one rule-count difference means, the final verdict (tsfw:policy) in words of its own. */
function missingLine(step: Step, missing: number, of: number): string {
  if (step.group === 'policy') return `the final ${step.does} (tsfw:policy) is gone`;
  const what = `tsfw:${step.group} rule${of === 1 ? '' : 's'} ending in ${step.does}`;
  if (missing === of) return of === 1 ? `the ${what} is gone` : `all ${of} ${what} are gone`;
  return `${missing} of ${of} ${what} ${missing === 1 ? 'is' : 'are'} gone`;
}

/**
 * `where` names the chain ("IPv4 chain tsfw-input"); `want` is what was loaded into it, `live` what it holds, both
 * in order. Empty when they agree.
 */
export function chainProblems(where: string, want: readonly Step[], live: readonly Step[]): string[] {
  const ours = live.filter((s) => s.group !== undefined);
  const foreign = live.filter((s) => s.group === undefined);
  const out: string[] = [];
  if (ours.length === 0 && want.length > 0) out.push(`${where}: emptied, its ${rules(want.length)} of ours are gone`);
  else {
    const wanted = countBy(want);
    const have = countBy(ours);
    for (const [k, w] of wanted) {
      const n = have.get(k)?.n ?? 0;
      if (n < w.n) out.push(`${where}: ${missingLine(w.step, w.n - n, w.n)}`);
    }
    for (const [k, h] of have) {
      const n = wanted.get(k)?.n ?? 0;
      if (h.n > n) out.push(`${where}: ${rules(h.n - n)} marked tsfw:${h.step.group} ending in ${h.step.does} that ${h.n - n === 1 ? 'was' : 'were'} not loaded`);
    }
    if (out.length === 0 && ours.map(key).join('\n') !== want.map(key).join('\n')) out.push(`${where}: our rules are out of the loaded order`);
  }
  for (const s of foreign.slice(0, NAMED_FOREIGN)) out.push(`${where}: a rule that is not ours: ${s.text ?? s.does}`);
  if (foreign.length > NAMED_FOREIGN) out.push(`${where}: ${rules(foreign.length - NAMED_FOREIGN)} more that are not ours`);
  return out;
}
