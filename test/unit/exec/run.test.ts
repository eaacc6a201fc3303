import { describe, expect, test } from 'vitest';
import { follow, run } from '../../../src/exec/run.js';

const node = process.execPath;

describe('run', () => {
  test('exit code, stdout and stderr come back as text, final newline kept', async () => {
    const r = await run(node, ['-e', 'process.stdout.write("out\\n"); process.stderr.write("err\\n"); process.exit(3)']);
    expect(r).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', spawnError: undefined });
  });

  test('input goes to stdin; without input stdin is closed', async () => {
    expect((await run(node, ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'a\nb\n' })).stdout).toBe('a\nb\n');
    expect((await run(node, ['-e', 'process.stdin.on("data",()=>{}).on("end",()=>console.log("eof"))'])).stdout).toBe('eof\n');
  });

  test('a program that exits without reading a large input is not an EPIPE crash', async () => {
    const r = await run(node, ['-e', 'process.exit(0)'], { input: 'x'.repeat(4 * 1024 * 1024) });
    expect(r.exitCode).toBe(0);
  });

  test('env extends the environment instead of replacing it', async () => {
    const r = await run(node, ['-e', 'console.log(process.env.TSFW_T, typeof process.env.PATH)'], { env: { TSFW_T: 'x' } });
    expect(r.stdout).toBe('x string\n');
  });

  test('a missing program is exit 127 with a spawn error, not a throw', async () => {
    const r = await run('/nonexistent/tsfw-no-such-program', ['x']);
    expect(r.exitCode).toBe(127);
    expect(r.spawnError).toMatch(/ENOENT/);
  });

  test('a program killed by a signal is exit 127 naming the signal', async () => {
    const r = await run(node, ['-e', 'process.stdout.write("partial"); process.kill(process.pid, "SIGKILL")']);
    expect(r).toMatchObject({ exitCode: 127, stdout: 'partial', spawnError: expect.stringMatching(/was killed with SIGKILL/) });
  });

  test('a program that ignores the timeout\'s SIGTERM is ended by SIGKILL', async () => {
    const r = await run(node, ['-e', 'process.on("SIGTERM", () => {}); setTimeout(() => {}, 30000)'], { timeoutMs: 200 });
    expect(r.spawnError).toMatch(/timed out after 200 ms/);
  }, 15_000);

  test('a program past its timeout is killed and reported', async () => {
    const r = await run(node, ['-e', 'setTimeout(() => {}, 30000)'], { timeoutMs: 200 });
    expect(r.exitCode).toBe(127);
    expect(r.spawnError).toMatch(/timed out after 200 ms/);
  });
});

describe('follow', () => {
  test('hands over whole lines as they come, however the output is chunked, and stop() ends the program', async () => {
    const lines: string[] = [];
    const followed = follow(node, ['-e', [
      'process.stdout.write("one\\ntw");',
      'setTimeout(() => process.stdout.write("o\\nthree\\n"), 100);',
      'setInterval(() => {}, 1000);',
    ].join('')], (line) => lines.push(line));
    for (let i = 0; i < 100 && lines.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines).toEqual(['one', 'two', 'three']);
    followed.stop();
    const r = await followed.done;
    expect(r.spawnError).toMatch(/was killed with SIGTERM/);
  });

  test('started settles once the program runs, before its first line; stop() before that still ends it', async () => {
    const lines: string[] = [];
    const followed = follow(node, ['-e', 'setTimeout(() => console.log("late"), 300); setInterval(() => {}, 1000)'], (line) => lines.push(line));
    await followed.started;
    expect(lines).toEqual([]);
    followed.stop();
    expect((await followed.done).spawnError).toMatch(/was killed with SIGTERM/);
    const early = follow(node, ['-e', 'setInterval(() => {}, 1000)'], () => {});
    early.stop();
    expect((await early.done).spawnError).toMatch(/was killed with SIGTERM/);
  });

  test('a missing program settles done with a spawn error, not a throw', async () => {
    const missing = follow('/nonexistent/tsfw-no-such-program', [], () => {});
    await missing.started;
    const r = await missing.done;
    expect(r.exitCode).toBe(127);
    expect(r.spawnError).toMatch(/ENOENT/);
  });
});
