/**
 * The shipped bundle with no config file at all (the embedded default), on each backend and on BACKEND=auto, which
 * picks nftables wherever nft is installed (as here): ssh opens to the world, telnet stays closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canConnect, createLab, listen, type Lab } from '../harness/netns.js';
import { BACKENDS, holders, type BackendName } from './helpers.js';
import { withoutFail2ban } from '../harness/no-fail2ban.js';

const CLI = new URL('../../dist/tsfirewall.cjs', import.meta.url).pathname;
// The run directory (journal, loaded-ruleset record) is the test's own, not this machine's /run.
const scratch = mkdtempSync(join(tmpdir(), 'tsfw-smoke-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CHOICES: readonly ('auto' | BackendName)[] = ['auto', ...BACKENDS];

describe.each(CHOICES)('the embedded default, backend %s', (choice) => {
  let lab: Lab;
  let stopListener: () => void;
  const env = { TSFIREWALL_RUN_DIR: join(scratch, choice), TSFIREWALL_STATE_DIR: join(scratch, `${choice}-state`), TSFIREWALL_FAIL2BAN_DIR: join(scratch, `${choice}-fail2ban`), ...(choice === 'auto' ? {} : { TSFIREWALL_BACKEND: choice }) };

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'out', segment: 'wan', octet: 20 }]);
    stopListener = await listen(lab.hosts.fw!, [22, 23]);
  });
  afterAll(async () => { stopListener?.(); await lab?.destroy(); });

  test('opens ssh to the world and keeps telnet closed', async () => {
    const fw = lab.hosts.fw!;
    const start = await fw.exec(withoutFail2ban([process.execPath, CLI, 'start']), { env: { ...env, TSFIREWALL_CONFIG: '/dev/null/none' } });
    expect(start.exitCode, start.stderr).not.toBe(0);
    expect(start.stderr).toMatch(/config file not found|cannot read config/);
    const ok = await fw.exec(withoutFail2ban([process.execPath, CLI, 'start']), { env });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const used: BackendName = choice === 'auto' ? 'nftables' : choice;
    expect(ok.stdout).toContain(`(${used})`);
    expect(await holders(fw)).toEqual([used]);
    expect(await canConnect(lab.hosts.out!, fw.ip, 22)).toBe(true);
    expect(await canConnect(lab.hosts.out!, fw.ip, 23, 1000)).toBe(false);
  });
});
