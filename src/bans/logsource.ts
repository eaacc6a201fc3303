/**
 * Where each jail reads its service's log: the systemd journal when the host runs journald, fail2ban can read it
 * (python3-systemd) and the filter knows how to select the service there (a `journalmatch`); otherwise a log file.
 * This is what makes the ssh jail work on a Debian 12 host without rsyslog, where /var/log/auth.log never exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JailConfig } from '../config/types.js';
import type { LogSource } from './conf.js';

/**
 * Log files by filter, as fail2ban's own paths-<distro>.conf names them, so the right file is used on Debian,
 * RHEL and the rest without tsfirewall knowing each layout.
 */
const FILE_BY_FILTER: Readonly<Record<string, string>> = {
  sshd: '%(sshd_log)s',
  postfix: '%(postfix_log)s',
  dovecot: '%(dovecot_log)s',
  vsftpd: '%(vsftpd_log)s',
  proftpd: '%(proftpd_log)s',
  'pure-ftpd': '%(pureftpd_log)s',
  'apache-auth': '%(apache_error_log)s',
  'named-refused': '/var/log/named/security.log',
};

export interface LogProbe {
  /** Why the journal cannot be used, or undefined when it can. */
  readonly journalUnusable?: string;
  /** undefined: the filter does not exist in filter.d. */
  readonly hasJournalmatch: (filter: string) => boolean | undefined;
}

const PY_DIRS = ['/usr/lib/python3/dist-packages', '/usr/local/lib/python3/dist-packages'];

function pythonSystemd(): boolean {
  let dirs = PY_DIRS;
  try {
    // RHEL and friends: /usr/lib64/python3.N/site-packages.
    for (const lib of ['/usr/lib', '/usr/lib64']) {
      dirs = [...dirs, ...readdirSync(lib).filter((d) => /^python3\.\d+$/.test(d)).map((d) => join(lib, d, 'site-packages'))];
    }
  } catch { /* no such lib dir */ }
  return dirs.some((d) => existsSync(join(d, 'systemd', 'journal.py')));
}

/** Reads the host: is journald running, can fail2ban read it, and what do the filters select on. */
export function probeLogs(fail2banDir: string): LogProbe {
  const journalUnusable = !existsSync('/run/systemd/journal/socket')
    ? 'journald is not running'
    : !pythonSystemd() ? 'fail2ban cannot read the journal without python3-systemd (install it)' : undefined;
  return {
    journalUnusable,
    hasJournalmatch: (filter) => {
      const texts = ['conf', 'local'].map((ext) => {
        try { return readFileSync(join(fail2banDir, 'filter.d', `${filter}.${ext}`), 'utf8'); } catch { return undefined; }
      });
      if (texts[0] === undefined && texts[1] === undefined) return undefined;
      return texts.some((t) => t !== undefined && /^journalmatch\s*=\s*\S/m.test(t));
    },
  };
}

/**
 * Pure: picks the source for one jail, or none (with the reason) when the jail could not work: fail2ban refuses
 * to start at all if any enabled jail lacks its filter or log, so such a jail is left out rather than taking the
 * others down with it.
 */
export function chooseLogSource(service: string, jail: JailConfig, probe: LogProbe): { source?: LogSource; warnings: string[] } {
  const key = (field: string) => `SERVICE_${service.toUpperCase()}_${field}`;
  const matchable = probe.hasJournalmatch(jail.filter);
  if (matchable === undefined) {
    return { warnings: [`${service}: fail2ban has no filter "${jail.filter}" (filter.d/${jail.filter}.conf), so no jail for it; set ${key('JAIL_FILTER')}`] };
  }
  if (jail.logpath) return { source: { kind: 'file', path: jail.logpath }, warnings: [] };
  if (!probe.journalUnusable && matchable) return { source: { kind: 'journal' }, warnings: [] };
  const file = FILE_BY_FILTER[jail.filter];
  if (!file) {
    return { warnings: [`${service}: no known log file for filter "${jail.filter}"${probe.journalUnusable ? ` and ${probe.journalUnusable}` : ''}, so no jail for it; set ${key('JAIL_LOGPATH')}`] };
  }
  const warnings = probe.journalUnusable && matchable ? [`${service}: reading ${file} instead of the journal: ${probe.journalUnusable}`] : [];
  return { source: { kind: 'file', path: file }, warnings };
}
