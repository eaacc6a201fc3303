/** The physical floor (see programs.ts): each program through bare node:child_process, its output read and dropped. */
import { spawn } from 'node:child_process';
import { runStages, type Program } from './programs.js';

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

void runStages(runOne);
