/**
 * The floor of a verb's design: the same programs the verb waits on, in the same stages (each stage's programs at
 * once, stages one after another), with nothing else: no config, no journal, no output. Two launchers share this:
 * programs-raw.ts (bare node:child_process, the physical floor) and programs-execa.ts (the product's own exec
 * path, loaded by the product's own entry with its code cache: what the product's exec path adds). Both take
 * `SPEC.json` = `[[{"argv": [...], "input": "..."}, ...], ...]` and exit 1 when a program fails, so a broken floor
 * stops the bench.
 */
import { readFileSync } from 'node:fs';

export interface Program { readonly argv: readonly string[]; readonly input?: string }
export type Stages = readonly (readonly Program[])[];

/** Runs the stages named by the last argument; `runOne` resolves to a program's exit code. */
export async function runStages(runOne: (p: Program) => Promise<number>): Promise<void> {
  const stages = JSON.parse(readFileSync(process.argv[process.argv.length - 1]!, 'utf8')) as Stages;
  for (const stage of stages) {
    const codes = await Promise.all(stage.map(runOne));
    const bad = codes.findIndex((c) => c !== 0);
    if (bad >= 0) {
      process.stderr.write(`${stage[bad]!.argv.join(' ')} exited ${codes[bad]}\n`);
      process.exit(1);
    }
  }
}
