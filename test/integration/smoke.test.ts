import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { canConnect, createLab, listen, type Lab } from '../harness/netns.js';

const CLI = new URL('../../dist/tsfirewall.cjs', import.meta.url).pathname;
let lab: Lab;
let stopListener: () => void;
// The run directory (journal, loaded-ruleset record) is the test's own, not this machine's /run.
const scratch = mkdtempSync(join(tmpdir(), 'tsfw-smoke-'));
const env = { TSFIREWALL_RUN_DIR: join(scratch, 'run') };

beforeAll(async () => {
  lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'out', segment: 'wan', octet: 20 }]);
  stopListener = await listen(lab.hosts.fw!, [22, 23]);
});
afterAll(async () => { stopListener?.(); await lab?.destroy(); rmSync(scratch, { recursive: true, force: true }); });

test('the embedded default opens ssh to the world and keeps telnet closed', async () => {
  const fw = lab.hosts.fw!;
  const start = await fw.exec([process.execPath, CLI, 'start'], { env: { ...env, TSFIREWALL_CONFIG: '/dev/null/none' } });
  expect(start.exitCode, start.stderr).not.toBe(0);
  expect(start.stderr).toMatch(/config file not found|cannot read config/);
  const ok = await fw.exec([process.execPath, CLI, 'start'], { env });
  expect(ok.exitCode, ok.stderr).toBe(0);
  expect(await canConnect(lab.hosts.out!, fw.ip, 22)).toBe(true);
  expect(await canConnect(lab.hosts.out!, fw.ip, 23, 1000)).toBe(false);
});
