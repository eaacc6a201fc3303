/**
 * Whether a config file may be obeyed: whoever can change it decides what the firewall lets in (one
 * TRUSTED_NETS=0.0.0.0/0 opens everything), so, as sshd's StrictModes does, it must be changeable by root alone (or
 * by the user running tsfirewall, whose own file it then is). One function for the main config and for every file a
 * drop-in directory (/etc/tsfirewall.d/*.conf) may add.
 */
import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

const STICKY = 0o1000;
const MAX_LINKS = 40;

/**
 * Every reason the file at `path` is unsafe to obey, each ending in the command that fixes it; [] when it is safe.
 * Checked: the file (after symlinks) is owned by root or `euid` and writable by nobody else; so is each directory
 * holding the file or a symlink to it (sticky or not: a config has no business in a /tmp-like directory); every
 * directory above those is too, unless sticky (its entries can be renamed only by their owners). Throws what
 * node:fs throws for a path that cannot be read.
 */
export function configTrustProblems(path: string, euid = process.geteuid?.() ?? 0): string[] {
  const names = lookupChain(resolve(path));
  const file = realpathSync(names[names.length - 1]!);
  const problems = fileProblems(file, statSync(file), euid);
  const holders = [...new Set(names.map((name) => realpathSync(dirname(name))))];
  const above = new Set(holders.flatMap((holder) => ancestors(holder)).filter((d) => !holders.includes(d)));
  for (const holder of holders) problems.push(...directoryProblems(holder, 'holder', euid));
  for (const dir of above) problems.push(...directoryProblems(dir, 'above', euid));
  return problems;
}

/** The name given, then each symlink's target in turn: every name the lookup of the file goes through. */
function lookupChain(start: string): string[] {
  const names = [start];
  for (let i = 0; i < MAX_LINKS && lstatSync(names[names.length - 1]!).isSymbolicLink(); i++) {
    const link = names[names.length - 1]!;
    names.push(resolve(dirname(link), readlinkSync(link)));
  }
  return names;
}

/** "/a/b/c" -> ["/a/b", "/a", "/"]: the directories a lookup of /a/b/c passes through above it. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dirname(dir); ; d = dirname(d)) {
    out.push(d);
    if (d === dirname(d)) return out;
  }
}

const octal = (st: Stats) => `0${(st.mode & 0o7777).toString(8)}`;
const writers = (st: Stats) => ((st.mode & 0o022) === 0o022 ? 'group and others' : st.mode & 0o020 ? 'its group' : 'others');
const ownedBy = (st: Stats, euid: number) => st.uid === 0 || st.uid === euid;

function fileProblems(file: string, st: Stats, euid: number): string[] {
  const harm = 'who could then decide what the firewall lets in';
  return [
    ...(ownedBy(st, euid) ? [] : [`config file ${file} is owned by uid ${st.uid}, not root, ${harm}; fix: chown root ${file}`]),
    ...((st.mode & 0o022) === 0 ? [] : [`config file ${file} is writable by ${writers(st)} (mode ${octal(st)}), ${harm}; fix: chmod go-w ${file}`]),
  ];
}

function directoryProblems(dir: string, role: 'holder' | 'above', euid: number): string[] {
  const st = statSync(dir);
  const what = role === 'holder'
    ? `directory ${dir}, which holds the config file,`
    : `directory ${dir}, on the way to the config file,`;
  const harm = role === 'holder' ? 'who could then replace the file' : 'who could then replace what is in it';
  const writable = (st.mode & 0o022) !== 0 && (role === 'holder' || (st.mode & STICKY) === 0);
  return [
    ...(ownedBy(st, euid) ? [] : [`${what} is owned by uid ${st.uid}, not root, ${harm}; fix: chown root ${dir}`]),
    ...(writable
      ? [`${what} is writable by ${writers(st)} (mode ${octal(st)}), ${harm}; fix: chmod go-w ${dir}, or keep the config in a directory only root can write`]
      : []),
  ];
}
