/**
 * A jail that reads a log file no one has written yet keeps fail2ban from starting at all ("Have not found any log
 * file for tsfw-ssh jail"): on a SysV host without a syslog daemon, the rules came up and the bans did not. So the
 * file a jail names is resolved as fail2ban resolves it (its paths-<distro>.conf variables) and, when it is missing
 * but its directory exists, created empty with the owner and mode the syslog daemon would give it; a jail whose
 * file cannot be made (a glob, no such directory) is left out with a warning, so the other jails still start.
 */
import { closeSync, constants, existsSync, fchmodSync, fchownSync, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LogSource } from './conf.js';

const MAX_DEPTH = 10;

/** One fail2ban .conf file's [DEFAULT] keys and its [INCLUDES] (continuation lines are indented). Pure. */
export function parseFail2banConf(text: string): { defaults: Map<string, string>; before: string[]; after: string[] } {
  const defaults = new Map<string, string>();
  const includes = new Map<string, string>();
  let section = '';
  let key: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*[#;]/.test(line) || line.trim() === '') { key = undefined; continue; }
    const head = /^\[([^\]]+)\]\s*$/.exec(line);
    if (head) { section = head[1]!; key = undefined; continue; }
    const target = section === 'DEFAULT' ? defaults : section === 'INCLUDES' ? includes : undefined;
    if (/^\s/.test(line) && key !== undefined && target) { target.set(key, `${target.get(key)}\n${line.trim()}`); continue; }
    const kv = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    key = kv && target ? kv[1]! : undefined;
    if (kv && target) target.set(kv[1]!, kv[2]!.trim());
  }
  const list = (k: string) => (includes.get(k) ?? '').split(/\s+/).filter(Boolean);
  return { defaults, before: list('before'), after: list('after') };
}

/**
 * fail2ban's path variables as its jail.conf sees them: jail.conf's includes (paths-debian.conf...), each read
 * after its own `before` and before its `after` files, later values winning.
 */
export function fail2banPathVars(dir: string): Map<string, string> {
  const vars = new Map<string, string>();
  const seen = new Set<string>();
  const read = (name: string, depth: number, apply: boolean): void => {
    if (depth > MAX_DEPTH || seen.has(name)) return;
    seen.add(name);
    let text: string;
    try { text = readFileSync(join(dir, name), 'utf8'); } catch { return; }
    const conf = parseFail2banConf(text);
    for (const b of conf.before) read(b, depth + 1, true);
    if (apply) for (const [k, v] of conf.defaults) vars.set(k, v);
    for (const a of conf.after) read(a, depth + 1, true);
  };
  // jail.conf's own [DEFAULT] is full of jail settings, not paths: only its includes matter here.
  read('jail.conf', 0, false);
  return vars;
}

/** A logpath with %(name)s expanded from `vars`, one path a line as fail2ban reads it. Pure. */
export function expandLogpath(logpath: string, vars: ReadonlyMap<string, string>): string[] {
  let text = logpath;
  for (let i = 0; i < MAX_DEPTH && /%\(([^)]+)\)s/.test(text); i++) {
    text = text.replace(/%\(([^)]+)\)s/g, (_, name: string) => vars.get(name) ?? '');
  }
  return text.split('\n').map((p) => p.trim()).filter((p) => p !== '' && !p.includes('%('));
}

/** Who owns a fresh log file: the syslog daemon's defaults (Debian's rsyslog: root:adm 0640; RHEL's secure: 0600). */
export function logFileOwner(path: string, groupText: string): { gid: number; group: string; mode: number } {
  const adm = /^adm:[^:]*:(\d+):/m.exec(groupText);
  const mode = path.endsWith('/secure') ? 0o600 : 0o640;
  return adm && mode === 0o640 ? { gid: Number(adm[1]), group: 'adm', mode } : { gid: 0, group: 'root', mode };
}

export interface LogFileOptions {
  readonly fail2banDir: string;
  /** Prefix for every log path (tests use a temp dir); '' on a host. */
  readonly root?: string;
  readonly groupFile?: string;
}

const GLOB = /[*?[]/;

/**
 * Makes sure a file source has a file fail2ban will find: resolves it, creates the first path empty if none exists
 * and its directory does. Returns the source to use (undefined: leave the jail out) and what was done, in words.
 */
export function ensureLogFile(service: string, source: LogSource, opts: LogFileOptions): { source?: LogSource; warnings: string[] } {
  if (source.kind !== 'file') return { source, warnings: [] };
  const root = opts.root ?? '';
  const paths = expandLogpath(source.path, fail2banPathVars(opts.fail2banDir));
  if (paths.length === 0) return { source, warnings: [] };
  if (paths.some((p) => matches(root, p))) return { source, warnings: [] };
  const key = `SERVICE_${service.toUpperCase()}_JAIL_LOGPATH`;
  const creatable = paths.find((p) => !GLOB.test(p) && p.startsWith('/') && existsSync(root + dirname(p)));
  if (!creatable) {
    return { warnings: [`${service}: no log file ${paths.join(', ')} exists yet and none can be made, so no jail for it (fail2ban would refuse to start); set ${key}`] };
  }
  let groupText = '';
  try { groupText = readFileSync(opts.groupFile ?? '/etc/group', 'utf8'); } catch { /* no group file: root owns it */ }
  const owner = logFileOwner(creatable, groupText);
  try {
    // O_EXCL|O_NOFOLLOW: a file or link planted meanwhile is never taken over or followed.
    const fd = openSync(root + creatable, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, owner.mode);
    // By descriptor, and the mode set outright: the umask must not decide who may read the auth log.
    try { fchownSync(fd, 0, owner.gid); fchmodSync(fd, owner.mode); } finally { closeSync(fd); }
  } catch (err) {
    const there = lstatSync(root + creatable, { throwIfNoEntry: false });
    // Made by someone else meanwhile: theirs. Anything but a file (a dangling link) fail2ban cannot read either.
    if (there?.isFile()) return { source, warnings: [] };
    const why = there ? 'it is a link or not a regular file' : (err as NodeJS.ErrnoException).code;
    return { warnings: [`${service}: cannot create ${creatable} (${why}), so no jail for it; set ${key}`] };
  }
  return {
    source,
    warnings: [`${service}: created ${creatable} (empty, root:${owner.group} ${owner.mode.toString(8).padStart(4, '0')}) so that fail2ban starts; ` +
      'nothing writes it until a syslog daemon runs (install rsyslog), so the jail sees no failures until then'],
  };
}

function matches(root: string, path: string): boolean {
  if (!GLOB.test(path)) return existsSync(root + path);
  // Only a glob in the last part, as fail2ban's paths use (/var/log/apache2/*error.log).
  const dir = dirname(path);
  const re = new RegExp(`^${path.slice(dir.length + 1).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try { return readdirSync(root + dir).some((f) => re.test(f)); } catch { return false; }
}
