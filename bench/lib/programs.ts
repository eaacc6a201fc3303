/**
 * The physical floor of a verb's design: the same programs the verb waits on, in the same stages (each stage's
 * programs at once, stages one after another), launched by a bare Node script with node:child_process and nothing
 * else: no execa, no config, no journal, no output. `node programs.cjs SPEC.json`, where SPEC is
 * `[[{"argv": [...], "input": "..."}, ...], ...]`; exits 1 when any program fails, so a broken floor stops the bench.
 * Built as CommonJS like the product's entry, so both pay the same Node start-up.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Program { readonly argv: readonly string[]; readonly input?: string }
export type Stages = readonly (readonly Program[])[];

function runOne(p: Program): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(p.argv[0]!, p.argv.slice(1), { stdio: [p.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    // Read everything, as a verb does: a program blocked on a full pipe would flatter the floor.
    child.stdout!.resume();
    child.stderr!.resume();
    if (p.input !== undefined) child.stdin!.end(p.input);
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code ?? 128));
  });
}

async function main(): Promise<void> {
  const stages = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Stages;
  for (const stage of stages) {
    const codes = await Promise.all(stage.map(runOne));
    const bad = codes.findIndex((c) => c !== 0);
    if (bad >= 0) {
      process.stderr.write(`${stage[bad]!.argv.join(' ')} exited ${codes[bad]}\n`);
      process.exit(1);
    }
  }
}

void main();
