/**
 * status tells when the loaded rules are no longer what `start` would load: after the config file was edited, or
 * after the interface's address moved (a new DHCP lease), until a reload applies it. In a namespace, once per backend.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, mustExec, ourRules, spell, tsfw, tsfwOk, useCliCopy } from './helpers.js';

const cli = useCliCopy();
const { configs } = cli;

describe.each(BACKENDS)('status and an out-of-date ruleset, %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  const config = configs.write('FAIL2BAN=no\nSERVICES=ssh web\n');
  const run = (args: readonly string[]) => tsfw(cli.path, fw, backend, args, config);
  const status = async () => {
    const [text, json] = await Promise.all([run(['status']), run(['status', '--json'])]);
    expect(text.exitCode, text.stderr).toBe(0);
    return { text: text.stdout, pending: (JSON.parse(json.stdout) as { pending: unknown }).pending };
  };
  const ok = (args: readonly string[]) => tsfwOk(cli.path, fw, backend, args, config);

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
  });
  afterAll(async () => { await lab?.destroy(); });

  test('right after start nothing is pending', async () => {
    await ok(['start']);
    const s = await status();
    expect(s.pending).toBeNull();
    expect(s.text).not.toMatch(/pending/);
  });

  test('an edited config is pending until reload', async () => {
    writeFileSync(config, 'FAIL2BAN=no\nSERVICES=ssh web smtp\n');
    const s = await status();
    expect(s.pending).toEqual({ reason: 'config' });
    expect(s.text).toMatch(/^tsfirewall: running .*\npending: the config changed since the rules were loaded; "tsfirewall reload" applies it/m);
    await ok(['reload']);
    expect((await status()).pending).toBeNull();
  });

  test('a moved address is named until reload loads the rules for it', async () => {
    // Deleting the primary address takes its secondaries with it: the new lease's address comes after.
    await mustExec(fw, ['ip', 'addr', 'del', '192.0.2.10/24', 'dev', 'eth0']);
    await mustExec(fw, ['ip', 'addr', 'add', '192.0.2.11/24', 'dev', 'eth0']);
    await mustExec(fw, ['ip', 'route', 'replace', 'default', 'via', '192.0.2.1']);
    const s = await status();
    expect(s.pending).toEqual({ reason: 'address', iface: 'eth0', loadedFor: ['192.0.2.10'], now: ['192.0.2.11'] });
    expect(s.text).toMatch(/^pending: eth0's address is now 192\.0\.2\.11, the rules were loaded for 192\.0\.2\.10; "tsfirewall reload" applies it/m);
    await ok(['reload']);
    expect((await status()).pending).toBeNull();
    expect(await ourRules(fw, backend)).toContain(spell.src(backend, '192.0.2.11'));
  });

  test('the boot-time ruleset is never "pending" (it lacks the address rules by design); stop forgets the record', async () => {
    await ok(['stop']);
    await ok(['start', '--early']);
    const s = await status();
    expect(s.pending).toBeNull();
    expect(s.text).toMatch(/^tsfirewall: early/);
    await ok(['stop']);
    const stopped = await run(['status', '--json']);
    expect(stopped.exitCode).toBe(3);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ state: 'stopped', pending: null });
  });
});
