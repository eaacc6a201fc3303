/**
 * A verb's result line ("firewall started: ..."), the way the seed's script echoes "Starting iptables: done":
 * command output on stdout, kept apart from diagnostics (src/log.ts), and cheap enough for the hot path.
 */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
