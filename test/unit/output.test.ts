/**
 * Command output written straight to descriptor 1 (src/output.ts), in a child process whose stdout is each kind of
 * descriptor a verb meets: a pipe read to the end, a non-blocking pipe (which makes write(2) fail with EAGAIN once
 * full, and hands the rest to Node's stream), and a pipe whose reader left before anything was written.
 */
import { execa } from 'execa';
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';

let dir = '';
let writer = '';
/** 2000 numbered lines of ~500 bytes: ~1 MB, many times what a pipe holds. */
const LINES = 2000;
const expected = Array.from({ length: LINES }, (_, i) => `${i} ${'x'.repeat(500)}\n`).join('');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsfw-output-'));
  writer = join(dir, 'writer.cjs');
  await build({
    stdin: {
      contents: `import { say, writeOut } from ${JSON.stringify(resolve('src/output.ts'))};
        for (let i = 0; i < ${LINES}; i += 2) { writeOut(i + ' ' + 'x'.repeat(500) + '\\n'); say((i + 1) + ' ' + 'x'.repeat(500)); }
        process.stderr.write('written\\n');`,
      resolveDir: process.cwd(), loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'cjs', outfile: writer, logLevel: 'error',
  });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a pipe read to the end gets every line, in order', async () => {
  const r = await execa(process.execPath, [writer], { reject: false, stripFinalNewline: false, timeout: 60_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout === expected).toBe(true);
});

test('a non-blocking pipe (EAGAIN once full) still gets every line, in order', async () => {
  // Python makes the pipe, sets O_NONBLOCK on the child's end, and reads only once the child has written (or after
  // a bounded wait): the child's write(2) fills the pipe and fails with EAGAIN, and the stream must carry the rest.
  const script = `
import fcntl, os, subprocess, sys, select
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([sys.argv[1], sys.argv[2]], stdout=w, stderr=subprocess.PIPE)
os.close(w)
select.select([p.stderr], [], [], 10)
out = b''
while True:
    chunk = os.read(r, 65536)
    if not chunk: break
    out += chunk
p.wait(timeout=60)
sys.stdout.buffer.write(out)
sys.exit(p.returncode)
`;
  const r = await execa('python3', ['-c', script, process.execPath, writer], { reject: false, stripFinalNewline: false, timeout: 90_000, maxBuffer: 1e8 });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout.length).toBe(expected.length);
  expect(r.stdout === expected).toBe(true);
});

test('a reader that leaves: no error, the writer finishes and exits 0, the rest goes nowhere', async () => {
  // `true` reads nothing and exits: ~1 MB cannot fit in the pipe, so the writer meets EPIPE whenever true leaves.
  const r = await execa('bash', ['-c', '"$1" "$2" | true; exit "${PIPESTATUS[0]}"', 'bash', process.execPath, writer], { reject: false, timeout: 60_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toBe('written');
});
