/**
 * Issue 17, item 3, the ban daemon's side: a real fail2ban, started by `tsfirewall start` in the firewall's
 * namespace, reads failed SSH logins from a log file and bans the attacker through tsfirewall's action; `metrics`
 * then reports the ban as fail2ban's (added, held now, the failures it counted), checked by promtool, on every
 * backend. fail2ban's socket, pid file and configuration have fixed paths shared by the whole machine, so the
 * run happens in one mount namespace of its own (`ip netns exec` makes one) with a private /run/fail2ban and a
 * copy of /etc/fail2ban bound over them, its database in memory and its log in the test's directory: nothing of
 * this machine's own fail2ban (or another test's) is seen or touched, and the daemon is stopped before the
 * namespace ends.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, tsfwEnv, useCliCopy, type BackendName } from './helpers.js';

const ATTACKER = '198.51.100.20';
const cli = useCliCopy();
const work = mkdtempSync(join(tmpdir(), 'tsfw-f2b-metrics-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * The whole run as one script in the namespace's own mount namespace: private fail2ban paths, start, failed
 * logins, a bounded wait for the ban, metrics (between the markers), stop, and the daemon gone whatever happened.
 */
function script(dir: string, cliPath: string): string {
  const tsfw = `${process.execPath} ${cliPath} --config ${dir}/tsfirewall.conf`;
  return `set -eu
d=${dir}
mkdir -p "$d/run" "$d/etc" /run/fail2ban
cp -a /etc/fail2ban/. "$d/etc/"
rm -f "$d/etc/jail.d/tsfirewall.conf" "$d/etc/action.d/"tsfirewall-*.conf
printf '[Definition]\\nlogtarget = %s\\ndbfile = :memory:\\n' "$d/fail2ban.log" > "$d/etc/fail2ban.local"
mount --bind "$d/run" /run/fail2ban
mount --bind "$d/etc" /etc/fail2ban
cleanup() {
  fail2ban-client stop >/dev/null 2>&1 || true
  if [ -s /run/fail2ban/fail2ban.pid ]; then kill "$(cat /run/fail2ban/fail2ban.pid)" 2>/dev/null || true; fi
  umount /etc/fail2ban /run/fail2ban 2>/dev/null || true
}
trap cleanup EXIT
: > "$d/auth.log"
printf 'FAIL2BAN=yes\\nSERVICES=ssh\\nSERVICE_SSH_JAIL_LOGPATH=%s\\nSERVICE_SSH_JAIL_MAXRETRY=3\\n' "$d/auth.log" > "$d/tsfirewall.conf"
${tsfw} start
for i in 1 2 3 4; do
  echo "$(date '+%b %e %H:%M:%S') fw sshd[4$i]: Failed password for root from ${ATTACKER} port 4$i ssh2" >> "$d/auth.log"
done
i=0
until fail2ban-client status tsfw-ssh 2>/dev/null | grep -q 'Currently banned:[[:space:]]*1'; do
  i=$((i + 1)); [ $i -le 120 ] || { echo "fail2ban never banned ${ATTACKER}" >&2; fail2ban-client status tsfw-ssh >&2 || true; exit 1; }
  sleep 0.5
done
echo '--- metrics'
${tsfw} metrics
echo '--- end'
${tsfw} bans
${tsfw} stop
`;
}

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] === name && (m[2] ?? '').split(',').filter(Boolean).sort().join(',') === want) return Number(m[3]);
  }
  return undefined;
}

describe.each(BACKENDS)('fail2ban\'s bans in the metrics (%s)', (backend: BackendName) => {
  let lab: Lab;
  let fw: Host;
  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
  });
  afterAll(async () => { await lab?.destroy(); });

  test('a real fail2ban bans an attacker from its log: added by fail2ban, held now, its failures counted', async () => {
    const dir = mkdtempSync(join(work, `${backend}-`));
    // fail2ban reads its own /etc/fail2ban, the copy bound over it in this mount namespace: our files go there.
    const r = await fw.exec(['sh', '-c', script(dir, cli.path)], { env: { ...tsfwEnv(cli.path, backend, fw.ns), TSFIREWALL_FAIL2BAN_DIR: '/etc/fail2ban' }, timeoutMs: 180_000 });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const text = `${r.stdout.split('--- metrics\n')[1]!.split('--- end')[0]!.trimEnd()}\n`;
    const lint = await execa('promtool', ['check', 'metrics'], { input: text, reject: false, timeout: 60_000 });
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(value(text, 'tsfirewall_ban_daemon_up')).toBe(1);
    expect(value(text, 'tsfirewall_state', { state: 'running' })).toBe(1);
    expect(value(text, 'tsfirewall_bans', { jail: 'tsfw-ssh' })).toBe(1);
    expect(value(text, 'tsfirewall_bans_added_total', { jail: 'tsfw-ssh', by: 'fail2ban' })).toBe(1);
    expect(value(text, 'tsfirewall_bans_removed_total', { jail: 'tsfw-ssh', by: 'fail2ban' })).toBe(0);
    expect(value(text, 'tsfirewall_bans_added_total', { jail: 'tsfw-ssh', by: 'tsfirewall' })).toBe(0);
    expect(value(text, 'tsfirewall_jail_failures_total', { jail: 'tsfw-ssh' })).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toContain(ATTACKER);
  });
});
