/**
 * node_exporter's textfile collector reads every *.prom file in its directory on each scrape, so a half-written
 * file would be scraped as broken metrics: the text goes to a temp file in the same directory (a name the collector
 * skips, as it does not end in .prom), is fsynced, then renamed over the old one. Mode 0644: the exporter runs as
 * its own user. Not state/write.ts, which keeps files private to root in a directory it owns.
 */
import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TsfwError } from '../errors.js';

export function writeTextfile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    const bytes = Buffer.from(text, 'utf8');
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* never made, or renamed */ }
    throw new TsfwError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1, { cause: err });
  }
}
