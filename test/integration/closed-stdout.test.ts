/**
 * `tsfirewall show | head -1`, `tsfirewall bans | head -3`: a reader that closes its end of the pipe early ends the
 * command's output, not the command. The real CLI in `unshare -n` (show and bans only read, but they still run in a
 * namespace of their own), with its stdout a pipe this test closes: after the first chunk of an output far larger
 * than a pipe holds (so the CLI is still writing), or before anything was written at all.
 */
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { tsfwEnv, useCliCopy, type BackendName } from './helpers.js';

const cli = useCliCopy();

/** 5000 IPv6 friends: ~320 kB (nft) to ~400 kB (iptables) of show output, several times the 64 kB a pipe buffers. */
const BIG_CONFIG = [
  'MYIP=192.0.2.10', 'NETMASK=24', 'FAIL2BAN=no', 'IPV6=mirror',
  `TRUSTED_NETS=${Array.from({ length: 5000 }, (_, i) => `2001:db8::${(i + 1).toString(16)}/128`).join(' ')}`,
].join('\n');

interface Outcome { exitCode: number | null; signal: NodeJS.Signals | null; stdoutBytes: number; stderr: string }

/** Runs the CLI with `args`; `closeAfter` chunks of stdout are read (0: none, Infinity: all), then the read end is closed. */
function runClosingStdout(backend: BackendName, args: readonly string[], config: string, closeAfter: 0 | 1 | typeof Infinity): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', '--', process.execPath, cli.path, '--config', config, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...tsfwEnv(cli.path, backend) },
    });
    let stdoutBytes = 0;
    let stderr = '';
    if (closeAfter === 0) child.stdout.destroy();
    else if (closeAfter === 1) child.stdout.once('data', (chunk: Buffer) => { stdoutBytes = chunk.length; child.stdout.destroy(); });
    else child.stdout.on('data', (chunk: Buffer) => { stdoutBytes += chunk.length; });
    child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdoutBytes, stderr }));
  });
}

const quietly = (o: Outcome) => {
  expect(o.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  expect(o.signal).toBeNull();
  expect(o.exitCode, o.stderr).toBe(0);
};

// Each backend prints its own text (iptables-restore's, or one nft document): both outputs end the same way.
describe.each(['iptables-nft', 'nftables'] as BackendName[])('%s', (backend) => {
  test('show: the reader closes after its first chunk, while show is still writing', async () => {
    const config = cli.configs.write(`${BIG_CONFIG}\n`);
    const whole = await runClosingStdout(backend, ['show'], config, Infinity);
    quietly(whole);
    expect(whole.stdoutBytes).toBeGreaterThan(4 * 65536);
    const cut = await runClosingStdout(backend, ['show'], config, 1);
    expect(cut.stdoutBytes).toBeGreaterThan(0);
    expect(cut.stdoutBytes).toBeLessThan(whole.stdoutBytes);
    quietly(cut);
  }, 60_000);

  test('show and bans: the reader is gone before anything is written', async () => {
    const config = cli.configs.write('MYIP=192.0.2.10\nNETMASK=24\nFAIL2BAN=no\n');
    quietly(await runClosingStdout(backend, ['show'], config, 0));
    quietly(await runClosingStdout(backend, ['bans'], config, 0));
  }, 60_000);

  test('status and start: the reader is gone before anything is written (output straight to descriptor 1)', async () => {
    const config = cli.configs.write('MYIP=192.0.2.10\nNETMASK=24\nFAIL2BAN=no\n');
    // Nothing is loaded in the fresh namespace: status says so with its own code, 3, not an error.
    const stopped = await runClosingStdout(backend, ['status'], config, 0);
    expect(stopped.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(stopped.exitCode, stopped.stderr).toBe(3);
    quietly(await runClosingStdout(backend, ['start'], config, 0));
  }, 60_000);
});
