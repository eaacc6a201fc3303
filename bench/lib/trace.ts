/**
 * Where a traced verb's time goes (TSFIREWALL_TRACE=1, src/trace.ts), stage by stage: Node's own start until our
 * first line, loading the bundle, everything before the first program (the verb's code, lock, journal, config,
 * discovery, compile), each stage of programs (programs whose runs overlap form one stage), the JS between stages,
 * after the last one, and what the process costs outside its own clock (fork and exec by the agent, teardown).
 */
import type { Agent } from './ns.js';
import { bar, ms, type Panel, type Row } from './results.js';
import type { Contestant } from './rounds.js';
import { summarize } from './stats.js';

export type Marks = readonly (readonly [number, string])[];

export interface TracedRun { readonly total: number; readonly marks: Marks }

/** The trace line the CLI prints at exit; undefined when there is none (the verb was not traced). */
export function parseTrace(stderr: string): Marks | undefined {
  const line = stderr.split('\n').reverse().find((l) => l.startsWith('tsfw-trace '));
  return line === undefined ? undefined : (JSON.parse(line.slice('tsfw-trace '.length)) as Marks);
}

export interface Stage { readonly label: string; readonly ms: number }

const at = (marks: Marks, name: string) => marks.find(([, n]) => n === name)?.[0];
const program = (name: string) => name.slice(name.indexOf(' ') + 1).split('/').pop()!;

/** The named stages of one run, in order; their sum is the run's total. */
export function stages(run: TracedRun): Stage[] {
  const { marks, total } = run;
  const entry = at(marks, 'entry') ?? 0;
  const loaded = at(marks, 'core loaded') ?? entry;
  const exit = at(marks, 'exit') ?? total;
  const out: Stage[] = [{ label: 'Node, until our first line', ms: entry }, { label: 'load the bundle', ms: loaded - entry }];
  // Each program runs from its `exec` mark (run() called) to its `exited` mark; overlapping runs are one stage.
  const open = new Map<string, number[]>();
  const spans: { from: number; to: number; name: string }[] = [];
  for (const [t, name] of marks) {
    if (name.startsWith('exec ')) open.set(program(name), [...(open.get(program(name)) ?? []), t]);
    if (name.startsWith('exited ')) {
      const starts = open.get(program(name)) ?? [];
      spans.push({ from: starts.shift() ?? t, to: t, name: program(name) });
    }
  }
  spans.sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number; names: string[] }[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.from <= last.to) { last.to = Math.max(last.to, s.to); last.names.push(s.name); }
    else merged.push({ from: s.from, to: s.to, names: [s.name] });
  }
  const firstProgram = merged[0]?.from ?? exit;
  out.push({ label: 'before the first program', ms: firstProgram - loaded });
  let between = 0;
  merged.forEach((m, i) => {
    if (i > 0) between += m.from - merged[i - 1]!.to;
    out.push({ label: `programs ${i + 1}: ${[...new Set(m.names)].map((n) => `${n}${m.names.filter((x) => x === n).length > 1 ? ` x${m.names.filter((x) => x === n).length}` : ''}`).join(', ')}`, ms: m.to - m.from });
  });
  if (merged.length > 0) {
    out.push({ label: 'JS between the programs', ms: between }, { label: 'after the last program', ms: exit - merged[merged.length - 1]!.to });
  }
  out.push({ label: 'outside the process (fork, exec, teardown)', ms: total - exit });
  return out;
}

/** The steps before the first program, mark to mark (what "before the first program" is made of). */
export function earlySteps(run: TracedRun): Stage[] {
  const { marks } = run;
  const first = marks.findIndex(([, n]) => n.startsWith('exec '));
  const from = marks.findIndex(([, n]) => n === 'core loaded');
  const out: Stage[] = [];
  for (let i = Math.max(from, 0) + 1; i <= (first < 0 ? marks.length - 1 : first); i++) {
    out.push({ label: marks[i]![1], ms: marks[i]![0] - marks[i - 1]![0] });
  }
  return out;
}

/** A contestant that runs argv traced and keeps each run's marks (the timed figure is the agent's, as for the rest). */
export function tracedContestant(name: string, agent: Agent, argv: readonly string[], runs: TracedRun[],
  opts: { prepare?: () => Promise<void>; verify?: () => Promise<void>; env?: Record<string, string>; input?: string } = {}): Contestant {
  return {
    name, prepare: opts.prepare, verify: opts.verify,
    async measure() {
      const r = await agent.send({ op: 'run', argv, input: opts.input, env: { ...opts.env, TSFIREWALL_TRACE: '1' } });
      const marks = parseTrace(r.stderr);
      if (r.code !== 0 || marks === undefined) throw new Error(`[${agent.ns}] ${argv.join(' ')} (traced) exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
      runs.push({ total: r.ms, marks });
      return r.ms;
    },
  };
}

/** Median of each stage over the runs (stages matched by label; a stage some runs lack counts only where present). */
function medians(runs: readonly TracedRun[], of: (r: TracedRun) => Stage[]): { label: string; samples: number[] }[] {
  const order: string[] = [];
  const samples = new Map<string, number[]>();
  for (const r of runs) {
    for (const s of of(r)) {
      if (!samples.has(s.label)) { order.push(s.label); samples.set(s.label, []); }
      samples.get(s.label)!.push(s.ms);
    }
  }
  return order.map((label) => ({ label, samples: samples.get(label)! }));
}

/** The breakdown of a traced verb as one info row, a panel of its stages and a note of the steps before its first program. */
export function breakdown(verb: string, runs: readonly TracedRun[], untraced: readonly number[]): { row: Row; panel: Panel; note: string } {
  const parts = medians(runs, stages);
  const med = (xs: readonly number[]) => summarize(xs).median;
  const early = medians(runs, earlySteps).map((s) => `${s.label} ${ms(med(s.samples))}`).join(', ');
  return {
    row: {
      goal: `${verb}, stage by stage (traced runs, medians, info)`,
      value: `${parts.map((p) => `${p.label} ${ms(med(p.samples))}`).join(' + ')} = ${ms(med(runs.map((r) => r.total)))} ms traced (${ms(med(untraced))} ms untraced)`,
    },
    panel: { title: `${verb}, stage by stage (TSFIREWALL_TRACE=1), ms`, unit: 'ms', bars: parts.map((p) => bar(p.label, p.samples)) },
    note: `${verb}, before its first program, mark to mark (medians, ms; from the bundle loaded): ${early}.`,
  };
}
