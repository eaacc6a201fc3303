/**
 * The black-hole account that receives mail for unknown recipients. It must never be a way in: no login shell,
 * no home, a system uid, a locked password. An existing account is used only if it already looks like that, so
 * MAILGUARD_ACCOUNT cannot turn a real user's mailbox into a rubbish bin.
 */
import { existsSync, readFileSync } from 'node:fs';
import { which } from '../exec/which.js';
import { NotInstalledError, TsfwError } from '../errors.js';
import { run } from '../exec/run.js';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export const NO_LOGIN_SHELLS: readonly string[] = ['/usr/sbin/nologin', '/sbin/nologin', '/bin/false', '/usr/bin/false'];
export const NO_HOME = '/nonexistent';
// GECOS is a passwd field: no colon (useradd rejects it), no comma (sub-field separator).
const COMMENT = 'tsfirewall mailguard black hole for mail to unknown users';

/** One getent/passwd line: name:x:uid:gid:gecos:home:shell. */
export function parsePasswdEntry(line: string): Account | undefined {
  const f = line.trim().split(':');
  if (f.length !== 7 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! };
}

/** Why an existing account must not be the black hole, or undefined when it is fit. */
export function unfitReason(a: Account): string | undefined {
  if (a.uid === 0) return `account ${a.name} has uid 0`;
  if (!NO_LOGIN_SHELLS.includes(a.shell)) return `account ${a.name} has a login shell (${a.shell || 'default'})`;
  return undefined;
}

export const pickNoLoginShell = (exists: (p: string) => boolean = existsSync) =>
  NO_LOGIN_SHELLS.find((s) => s.endsWith('nologin') && exists(s)) ?? '/bin/false';

/** shadow's useradd (Debian, RHEL): a system account with its own group, no home created, password locked. */
export function useraddArgv(name: string, shell: string): string[] {
  return ['--system', '--user-group', '--no-create-home', '--home-dir', NO_HOME, '--shell', shell, '--comment', COMMENT, name];
}

/** Debian's adduser, for hosts without useradd on PATH. */
export function adduserArgv(name: string, shell: string): string[] {
  return ['--system', '--group', '--no-create-home', '--home', NO_HOME, '--shell', shell, '--gecos', COMMENT, name];
}

export async function lookupAccount(name: string): Promise<Account | undefined> {
  const getent = which('getent');
  if (getent) {
    const r = await run(getent, ['passwd', name], { timeoutMs: 15_000 });
    if (r.exitCode === 2) return undefined; // "key not found"
    if (r.exitCode === 0) return parsePasswdEntry(r.stdout.split('\n')[0] ?? '');
  }
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return line === undefined ? undefined : parsePasswdEntry(line);
}

/** Returns the account and whether this call created it; refuses an existing account that could log in. */
export async function ensureAccount(name: string): Promise<{ account: Account; created: boolean }> {
  const existing = await lookupAccount(name);
  if (existing) {
    const why = unfitReason(existing);
    if (why) throw new TsfwError(`${why}; the black hole must be an account nobody logs in to (set MAILGUARD_ACCOUNT to another name)`, 1);
    return { account: existing, created: false };
  }
  const shell = pickNoLoginShell();
  const useradd = which('useradd');
  const adduser = useradd ? undefined : which('adduser');
  if (!useradd && !adduser) throw new NotInstalledError('neither useradd nor adduser is installed; cannot create the black-hole account');
  const r = useradd ? await run(useradd, useraddArgv(name, shell)) : await run(adduser!, adduserArgv(name, shell));
  if (r.exitCode !== 0) throw new TsfwError(`could not create account ${name}: ${(r.spawnError ?? r.stderr).trim()}`, 1);
  const account = await lookupAccount(name);
  if (!account) throw new TsfwError(`account ${name} was created but cannot be looked up`, 1);
  return { account, created: true };
}
