// Make sure a Docker daemon answers, starting one if needed. CI machines start
// with no daemon running, so the harness has to bring its own.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { withFileLock } from './lock.js';

const DOCKERD = '/usr/sbin/dockerd';
const LOG = '/tmp/dockerd.log';
const LOCK = '/tmp/tsfw-dockerd.lock';
const PIDFILE = '/var/run/docker.pid';
// docker.io may still be installing when the first test starts.
const BINARY_WAIT_MS = 180_000;
const START_WAIT_MS = 60_000;

let inProcess: Promise<void> | undefined;

export async function dockerAnswers(): Promise<boolean> {
  const r = await execa('docker', ['version', '--format', '{{.Server.Version}}'], {
    reject: false,
    timeout: 15_000,
  });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A dockerd that is already starting (another test file, a previous run) must not get a twin. */
function dockerdRunning(): boolean {
  if (!existsSync(PIDFILE)) return false;
  const pid = Number.parseInt(readFileSync(PIDFILE, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
}

async function waitUntil(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (await check()) return;
    await sleep(1_000);
  }
  throw new Error(`timed out after ${ms / 1000}s waiting for ${what}`);
}

function logTail(): string {
  try {
    return readFileSync(LOG, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

async function startAndWait(): Promise<void> {
  if (await dockerAnswers()) return;
  await waitUntil(`${DOCKERD} to be installed`, BINARY_WAIT_MS, () => existsSync(DOCKERD));
  let child: ReturnType<typeof spawn> | undefined;
  if (!dockerdRunning()) {
    const out = openSync(LOG, 'a');
    try {
      // Detached and unref'd: the daemon outlives this test run and is reused by the next.
      child = spawn(DOCKERD, [], { detached: true, stdio: ['ignore', out, out] });
      child.unref();
    } finally {
      closeSync(out);
    }
  }
  try {
    await waitUntil('docker daemon to answer', START_WAIT_MS, async () => {
      if (child && child.exitCode !== null) {
        throw new Error(`dockerd exited with ${child.exitCode}`);
      }
      return dockerAnswers();
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${LOG}:\n${logTail()}`);
  }
}

export async function ensureDocker(): Promise<void> {
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  inProcess ??= (async () => {
    if (await dockerAnswers()) return;
    await withFileLock(LOCK, BINARY_WAIT_MS + START_WAIT_MS, startAndWait);
  })().catch((e: unknown) => {
    inProcess = undefined; // let a later caller retry
    throw e;
  });
  return inProcess;
}
