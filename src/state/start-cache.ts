/**
 * The cached start: what `/usr/sbin/tsfirewall start` (packaging/cached-start.sh) loads with one `nft -f` and no
 * Node at all when nothing the document depends on has changed, as Shorewall reuses its compiled script and
 * netfilter-persistent a saved file. The shell side computes the key (the config files, the bundle, the backend
 * choice and, for a full start, the host's addresses and default routes) and hands it to us in
 * TSFIREWALL_START_KEY when it found no entry; a start that then succeeds leaves the entry for the next one. We
 * never compute the key ourselves: the script is the one definition of what it covers.
 *
 * An entry is a directory `<mode>-<key>` holding the document (as start renders it for a table that is absent),
 * the loaded record start wrote (so status, drift and stop see a cached start as any other), the result line, and
 * what to do about the ban daemon. Only the newest entry per mode is kept.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDir, writeStateFile } from './write.js';

/** What the cached path does after the load: nothing, or queue fail2ban's start with systemd (never waits on it). */
export type CachedDaemon = 'none' | 'queue-fail2ban';

export interface StartCacheEntry {
  readonly mode: 'early' | 'full';
  readonly document: string;
  readonly record: string;
  readonly message: string;
  readonly daemon: CachedDaemon;
}

const KEY = /^[0-9a-f]{64}$/;

/** The key the wrapper computed, when this process was started by it after a miss; anything else is ignored. */
export function startCacheKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = env.TSFIREWALL_START_KEY;
  return key !== undefined && KEY.test(key) ? key : undefined;
}

export function startCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env.TSFIREWALL_CACHE_DIR ?? '/var/cache/tsfirewall';
  return base === '' ? undefined : join(base, 'start');
}

/**
 * Best effort, like the code cache: a cache that cannot be written only costs the next start its shortcut. Every
 * file goes through writeStateFile (no symlink followed, no half file), in directories only root can write, since
 * root loads what they hold into the kernel.
 */
export function writeStartCache(key: string, entry: StartCacheEntry, env: NodeJS.ProcessEnv = process.env): boolean {
  const dir = startCacheDir(env);
  if (dir === undefined) return false;
  try {
    ensureStateDir(join(dir, '..'));
    ensureStateDir(dir);
    const name = `${entry.mode}-${key}`;
    const own = ensureStateDir(join(dir, name));
    writeStateFile(own, 'record.json', entry.record);
    writeStateFile(own, 'message', `${entry.message}\n`);
    writeStateFile(own, 'daemon', `${entry.daemon}\n`);
    // Last: the script takes an entry without its document for a miss, so a half-written entry is never loaded.
    writeStateFile(own, 'document.nft', entry.document);
    for (const other of readdirSync(dir)) {
      if (other !== name && other.startsWith(`${entry.mode}-`)) rmSync(join(dir, other), { recursive: true, force: true });
    }
    return true;
  } catch {
    return false;
  }
}
