/** show: prints exactly what `start` would load, as the backend's own document(s). */
import { log } from '../../log.js';
import type { Command } from '../context.js';
import { prepare } from '../pipeline.js';

const show: Command = async (ctx) => {
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

export default show;
