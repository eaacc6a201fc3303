/**
 * blocklist [refresh [NAME...]]: the network blocklists (BLOCKLIST_<NAME>_FILE or _URL). `refresh` downloads the
 * URL lists (bounded in time and size) and swaps every list's sets atomically, under the verb lock so it never
 * interleaves with a start; the tsfirewall-blocklist.timer runs it. Without `refresh`: each list's source, what the
 * kernel holds of it, and when it was last downloaded.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { detectBackend } from '../../backend/choose.js';
import { cacheName, describeOutcome, loadBlocklists } from '../../blocklists/load.js';
import { blocklistSets } from '../../compile/blocklists.js';
import { loadConfig } from '../../config/load.js';
import { resolveHostChoices } from '../../discover/choices.js';
import { UsageError } from '../../errors.js';
import { log } from '../../log.js';
import { say } from '../../output.js';
import { exclusive } from '../../safety/exclusive.js';
import { stateDir } from '../../state/dirs.js';
import { duration } from '../../status/format.js';
import type { Command } from '../context.js';

const blocklist: Command = async (ctx) => {
  const [action, ...names] = ctx.args;
  if (action !== undefined && action !== 'refresh') throw new UsageError(`blocklist takes "refresh [NAME...]" or nothing, not "${action}"`);
  const loaded = loadConfig(ctx.configPath);
  for (const w of loaded.warnings) log.warn(w);
  const backend = await detectBackend(loaded.config.backend);
  const config = resolveHostChoices(loaded.config, backend.name);
  // The timer runs on every host the package is on: no list configured is nothing to do, not a failure.
  if (config.blocklists.length === 0 && action === 'refresh') {
    say('no blocklist is configured (BLOCKLIST_<NAME>_FILE or _URL); nothing to refresh');
    return 0;
  }
  if (config.blocklists.length === 0) throw new UsageError('no blocklist is configured (set BLOCKLIST_<NAME>_FILE or BLOCKLIST_<NAME>_URL)');
  const unknown = names.map((n) => n.toUpperCase()).filter((n) => !config.blocklists.some((l) => l.name === n));
  if (unknown.length > 0) throw new UsageError(`no blocklist ${unknown.join(', ')} (lists: ${config.blocklists.map((l) => l.name).join(', ')})`);
  if (action === 'refresh') {
    return exclusive(async () => {
      const outcomes = await loadBlocklists(backend, config, { fetch: true, ...(names.length > 0 ? { names: names.map((n) => n.toUpperCase()) } : {}) });
      for (const o of outcomes) {
        for (const note of o.notes) log.warn(`blocklist ${o.name}: ${note}`);
        say(describeOutcome(o));
      }
      // A list that could not be loaded at all is a failure for the timer's unit; one that kept its last copy is not.
      return outcomes.some((o) => !o.loaded && !o.notes.some((n) => n.includes('the last good copy stays'))) ? 1 : 0;
    });
  }
  const sets = blocklistSets(config).map((s) => s.name);
  const live = await backend.readLive(['ipv4'], sets);
  const rows = config.blocklists.map((l) => {
    const counts = sets.filter((s) => s.endsWith(`-${l.name}`)).map((s) => live.setCounts.get(s));
    const inKernel = counts.every((c) => c === undefined) ? 'not loaded' : `${counts.reduce<number>((a, c) => a + (c ?? 0), 0)} entries in the kernel`;
    const age = l.url ? downloadAge(l.name) : undefined;
    return { name: l.name, source: l.file ?? l.url!, inKernel, ...(age === undefined ? {} : { downloaded: age }) };
  });
  if (ctx.json) process.stdout.write(`${JSON.stringify({ blocklists: rows }, null, 2)}\n`);
  else process.stdout.write(rows.map((r) => `${r.name}: ${r.source}; ${r.inKernel}${r.source.includes('://') ? `; ${r.downloaded === undefined ? 'never downloaded' : `downloaded ${duration(r.downloaded)} ago`}` : ''}\n`).join(''));
  return 0;
};

/** Seconds since the last good download, from the kept copy's time. */
function downloadAge(name: string): number | undefined {
  try {
    return Math.max(0, Math.round((Date.now() - statSync(join(stateDir(), cacheName(name))).mtimeMs) / 1000));
  } catch {
    return undefined;
  }
}

export default blocklist;
