/** The hidden verb behind `check`'s throwaway-namespace test; reads its payload from stdin. */
import { runSandboxTests } from '../../backend/iptables/sandbox.js';
import type { Command } from '../context.js';

const sandbox: Command = async () => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return runSandboxTests(Buffer.concat(chunks).toString('utf8'));
};

export default sandbox;
