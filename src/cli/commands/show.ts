/** show: prints exactly what `start` would load, as the backend's own document(s); --sources, where the config came from. */
import { dropInDir } from '../../config/file.js';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import type { Origin } from '../../config/merge.js';
import { log } from '../../log.js';
import type { Command } from '../context.js';
import { prepare } from '../pipeline.js';

const show: Command = async (ctx) => {
  if (ctx.sources) return showSources(loadConfig(ctx.configPath), dropInDir(ctx.configPath), ctx.json);
  const { plan, backend } = await prepare(ctx);
  // The live ruleset is read only for what start carries over (the ban chains' entries); without access, show
  // still prints the ruleset itself.
  const before = await backend.snapshot(plan).catch((err: Error) => {
    log.debug(`not reading the live ruleset: ${err.message}`);
    return undefined;
  });
  const staged = backend.stage(plan, before);
  process.stdout.write(staged.parts.map((part) => `# ${part.title}\n${part.text}`).join('\n'));
  return 0;
};

const place = (o: Origin | undefined) => (o ? `${o.file ?? '(no file)'}${o.line === undefined ? '' : `:${o.line}`}` : '');

/**
 * Every key a file sets, with the file and line in force and the ones it overrides (a drop-in over the main file),
 * then the raw snippets: what an admin asks when a drop-in tool and a hand edit disagree.
 */
function showSources(loaded: LoadedConfig, dir: string, json: boolean): number {
  const keys = [...loaded.origins.keys()].sort();
  const snippets = loaded.config.snippets.map((s) => ({ file: s.file, point: s.point, syntax: s.syntax, ...(s.family ? { family: s.family } : {}), rules: s.rules.length }));
  if (json) {
    const entries = keys.map((k) => {
      const places = loaded.origins.get(k)!;
      return [k, { value: loaded.values[k], ...places[places.length - 1], overrides: places.slice(0, -1) }] as const;
    });
    process.stdout.write(`${JSON.stringify({ dropIns: dir, keys: Object.fromEntries(entries), snippets }, null, 2)}\n`);
    return 0;
  }
  const lines = [`# the main config, then ${dir}/*.conf in lexical order; a later file's value wins`];
  for (const k of keys) {
    const places = loaded.origins.get(k)!;
    const over = places.slice(0, -1).map(place);
    lines.push(`${k}=${loaded.values[k]}\t# ${place(places[places.length - 1])}${over.length > 0 ? ` (overrides ${over.join(', ')})` : ''}`);
  }
  lines.push(`# raw snippets of ${dir}, in the order they are placed${snippets.length === 0 ? ': none' : ''}`);
  for (const s of snippets) lines.push(`${s.file}\t# ${s.point}, ${s.syntax}${s.family ? ` ${s.family}` : ''}, ${s.rules} rule${s.rules === 1 ? '' : 's'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export default show;
