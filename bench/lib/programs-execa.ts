/** The floor plus execa (see programs.ts): each program through the product's one exec path, src/exec/run.ts. */
import { run } from '../../src/exec/run.js';
import { runStages } from './programs.js';

void runStages(async (p) => (await run(p.argv[0]!, p.argv.slice(1), { input: p.input })).exitCode);
