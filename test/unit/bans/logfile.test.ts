import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ensureLogFile, expandLogpath, fail2banPathVars, logFileOwner, parseFail2banConf } from '../../../src/bans/logfile.js';

// fail2ban's own layout on Debian: jail.conf includes paths-debian.conf, which reads paths-common.conf first.
const JAIL_CONF = '[INCLUDES]\n\n#before = paths-distro.conf\nbefore = paths-debian.conf\n\n[DEFAULT]\nbantime = 10m\nsshd_log = /wrong/place\n';
const PATHS_COMMON = '[INCLUDES]\n\nafter  = paths-overrides.local\n\n[DEFAULT]\n\nsyslog_authpriv = /var/log/auth.log\n' +
  'sshd_log = %(syslog_authpriv)s\napache_error_log = /var/log/apache2/*error.log\nvsftpd_log = /var/log/vsftpd.log\n' +
  'suhosin_log = %(syslog_user)s\n              %(lighttpd_error_log)s\nsyslog_user = /var/log/user.log\nlighttpd_error_log = /var/log/lighttpd/error.log\n';
const PATHS_DEBIAN = '# Debian\n\n[INCLUDES]\n\nbefore = paths-common.conf\n\nafter  = paths-overrides.local\n\n\n[DEFAULT]\n\nsyslog_authpriv = /var/log/auth.log\n';
const GROUPS = 'root:x:0:\nadm:x:4:syslog\n';

let base: string;
let f2b: string;
let root: string;
let groupFile: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsfw-logfile-'));
  f2b = join(base, 'fail2ban');
  root = join(base, 'root');
  mkdirSync(f2b);
  mkdirSync(join(root, 'var', 'log'), { recursive: true });
  writeFileSync(join(f2b, 'jail.conf'), JAIL_CONF);
  writeFileSync(join(f2b, 'paths-common.conf'), PATHS_COMMON);
  writeFileSync(join(f2b, 'paths-debian.conf'), PATHS_DEBIAN);
  groupFile = join(base, 'group');
  writeFileSync(groupFile, GROUPS);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));
const opts = () => ({ fail2banDir: f2b, root, groupFile });

test('reads [DEFAULT] keys, continuation lines and includes of a fail2ban .conf', () => {
  const conf = parseFail2banConf(PATHS_COMMON);
  expect(conf.after).toEqual(['paths-overrides.local']);
  expect(conf.defaults.get('suhosin_log')).toBe('%(syslog_user)s\n%(lighttpd_error_log)s');
});

test('resolves the variables as jail.conf sees them (the distro file after paths-common, jail.conf\'s own keys not)', () => {
  const vars = fail2banPathVars(f2b);
  writeFileSync(join(f2b, 'paths-overrides.local'), '[DEFAULT]\nvsftpd_log = /srv/ftp.log\n');
  expect(expandLogpath('%(sshd_log)s', vars)).toEqual(['/var/log/auth.log']);
  expect(expandLogpath('%(suhosin_log)s', vars)).toEqual(['/var/log/user.log', '/var/log/lighttpd/error.log']);
  expect(expandLogpath('%(vsftpd_log)s', fail2banPathVars(f2b))).toEqual(['/srv/ftp.log']);
  expect(expandLogpath('%(nosuch)s', vars)).toEqual([]);
});

test('Debian without syslog: /var/log/auth.log is created empty, root:adm 0640, and the start says so', () => {
  const r = ensureLogFile('ssh', { kind: 'file', path: '%(sshd_log)s' }, opts());
  expect(r.source).toEqual({ kind: 'file', path: '%(sshd_log)s' });
  expect(r.warnings).toEqual([expect.stringMatching(/^ssh: created \/var\/log\/auth\.log \(empty, root:adm 0640\) so that fail2ban starts; .*install rsyslog/)]);
  const st = statSync(join(root, 'var/log/auth.log'));
  expect(st.size).toBe(0);
  expect(st.mode & 0o7777).toBe(0o640);
  expect(st.gid).toBe(4);
  expect(st.uid).toBe(0);
});

test('an existing log is used as it is, silently; a glob that matches counts as existing', () => {
  writeFileSync(join(root, 'var/log/auth.log'), 'Jan  1 sshd[1]: x\n');
  expect(ensureLogFile('ssh', { kind: 'file', path: '%(sshd_log)s' }, opts()).warnings).toEqual([]);
  mkdirSync(join(root, 'var/log/apache2'));
  writeFileSync(join(root, 'var/log/apache2/site_error.log'), '');
  expect(ensureLogFile('web', { kind: 'file', path: '%(apache_error_log)s' }, opts())).toEqual({ source: { kind: 'file', path: '%(apache_error_log)s' }, warnings: [] });
});

test('a log that cannot be made (a glob with no match, no such directory) leaves the jail out, naming the key', () => {
  const glob = ensureLogFile('web', { kind: 'file', path: '%(apache_error_log)s' }, opts());
  expect(glob.source).toBeUndefined();
  expect(glob.warnings[0]).toMatch(/web: no log file \/var\/log\/apache2\/\*error\.log exists yet .*SERVICE_WEB_JAIL_LOGPATH/);
  expect(ensureLogFile('ftp', { kind: 'file', path: '/var/log/nosuchdir/x.log' }, opts()).source).toBeUndefined();
});

test('a link planted where the log goes is never followed', () => {
  symlinkSync(join(base, 'elsewhere'), join(root, 'var/log/auth.log'));
  const r = ensureLogFile('ssh', { kind: 'file', path: '/var/log/auth.log' }, opts());
  expect(existsSync(join(base, 'elsewhere'))).toBe(false);
  expect(r.source).toBeUndefined();
  expect(r.warnings).toEqual([expect.stringMatching(/cannot create \/var\/log\/auth\.log \(it is a link or not a regular file\)/)]);
});

test('without fail2ban\'s paths files (a journal host, a test dir) nothing is touched; the journal is never a file', () => {
  rmSync(join(f2b, 'jail.conf'));
  expect(ensureLogFile('ssh', { kind: 'file', path: '%(sshd_log)s' }, opts())).toEqual({ source: { kind: 'file', path: '%(sshd_log)s' }, warnings: [] });
  expect(ensureLogFile('ssh', { kind: 'journal' }, opts())).toEqual({ source: { kind: 'journal' }, warnings: [] });
  expect(existsSync(join(root, 'var/log/auth.log'))).toBe(false);
});

test('owner and mode follow the syslog daemon\'s defaults', () => {
  expect(logFileOwner('/var/log/auth.log', GROUPS)).toEqual({ gid: 4, group: 'adm', mode: 0o640 });
  expect(logFileOwner('/var/log/secure', GROUPS)).toEqual({ gid: 0, group: 'root', mode: 0o600 });
  expect(logFileOwner('/var/log/auth.log', 'root:x:0:\n')).toEqual({ gid: 0, group: 'root', mode: 0o640 });
});
