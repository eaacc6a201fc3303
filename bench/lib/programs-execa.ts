/** The floor plus the product's exec path (see programs.ts): each program through src/exec/run.ts, behind its entry. */
import { run } from '../../src/exec/run.js';
import { runStages } from './programs.js';

void runStages(async (p) => (await run(p.argv[0]!, p.argv.slice(1), { input: p.input })).exitCode);
