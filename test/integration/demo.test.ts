/**
 * The README's first command tells the whole story, checked here with its real parts: scripts/demo.sh's inner part
 * (what runs once the packages are in) in a mount namespace of its own, with a real sshd and a real fail2ban in its
 * namespaces. The attacker's first three logins reach sshd, the limiter drops the next two, fail2ban bans it, and
 * bans, explain and metrics say so; then nothing of the demo is left.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

test('the demo: limiter first, then a real fail2ban ban, shown by bans, explain and metrics; nothing left behind', async () => {
  const ns = `tsfw-demo-${randomBytes(3).toString('hex')}`;
  const r = await execa('unshare', ['--mount', '--propagation', 'private', '--', 'bash', 'scripts/demo.sh'], {
    cwd: ROOT, env: { TSFW_DEMO_INSIDE: '1', TSFW_DEMO_NS: ns }, reject: false, timeout: 240_000, all: true,
  });
  const out = String(r.all);
  expect(r.exitCode, out).toBe(0);
  expect(out).toMatch(/attempt 1: .*Permission denied/);
  expect(out).toMatch(/attempt 3: .*Permission denied/);
  expect(out).toMatch(/attempt 4: .*timed out/);
  expect(out).toMatch(/attempt 5: .*timed out/);
  expect(out).toMatch(/src=198\.51\.100\.66 hits: \d+/);
  expect(out).toMatch(/tsfw-ssh \(service ssh, .*\): 1 banned\n {2}198\.51\.100\.66/);
  expect(out).toMatch(/DROP: 198\.51\.100\.66 -> 192\.0\.2\.10 tcp port 22/);
  expect(out).toMatch(/banned: jail tsfw-ssh .*left/);
  expect(out).toMatch(/ACCEPT: 198\.51\.100\.66 -> 192\.0\.2\.10 tcp port 80/);
  expect(out).toMatch(/^tsfirewall_bans_added_total\{jail="tsfw-ssh",by="fail2ban"\} 1$/m);
  expect(out).toMatch(/^tsfirewall_jail_failures_total\{jail="tsfw-ssh"\} [3-9]$/m);
  expect(out).toMatch(/status exit code 3 = stopped/);
  const left = await execa('ip', ['netns', 'list']);
  expect(left.stdout).not.toContain(ns);
});
