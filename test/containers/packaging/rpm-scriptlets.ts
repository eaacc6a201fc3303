// Runs the rpm's scriptlets on the host with systemctl and tsfirewall replaced by recording stubs, so their
// decisions (preset on install, reload on upgrade, disable --now on erase) are checked without an RPM distro.
// Nothing real is called: the scriptlet text is rewritten to the stubs before sh sees it.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export type Scriptlet = 'POSTIN' | 'PREUN' | 'POSTUN';

export async function scriptletText(rpm: string, which: Scriptlet): Promise<string> {
  return (await execa('rpm', ['-qp', '--queryformat', `%{${which}}`, rpm], { timeout: 30_000 })).stdout;
}

/**
 * Runs one scriptlet with `$1` = arg (rpm's count of installed instances after the operation), in a world where
 * systemd is running (/run/systemd/system exists) and the firewall is loaded (`tsfirewall status` exits 0) when
 * `loaded`. Returns the stub calls, one "program args..." line each.
 */
export async function runScriptlet(text: string, arg: number, loaded: boolean): Promise<string[]> {
  const dir = mkdtempSync('/tmp/tsfw-scriptlet.');
  try {
    const log = join(dir, 'calls');
    writeFileSync(log, '');
    const stub = (name: string, exit: string) => {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\necho "${name} $*" >> '${log}'\n${exit}\n`);
      chmodSync(path, 0o755);
      return path;
    };
    const systemctl = stub('systemctl', 'exit 0');
    const tsfirewall = stub('tsfirewall', `[ "$1" = status ] && exit ${loaded ? 0 : 3}; exit 0`);
    const runDir = join(dir, 'run-systemd-system');
    const script = text
      .replaceAll('/usr/bin/systemctl', systemctl)
      .replaceAll('/usr/sbin/tsfirewall', tsfirewall)
      .replaceAll('/run/systemd/system', runDir)
      .replaceAll('/etc/fail2ban/', `${dir}/fail2ban/`);
    await execa('mkdir', ['-p', runDir]);
    await execa('sh', ['-c', script, 'scriptlet', String(arg)], { timeout: 30_000 });
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
