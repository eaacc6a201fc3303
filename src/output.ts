/**
 * A verb's result line ("firewall started: ..."), the way the seed's script echoes "Starting iptables: done":
 * command output on stdout, kept apart from diagnostics (src/log.ts), and cheap enough for the hot path.
 */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * A reader that closes its end of the pipe early (`tsfirewall bans | head -3`) ends our output, not the command: Node
 * ignores SIGPIPE, so the write fails with EPIPE, and without a listener that is an uncaught error, a stack trace and
 * exit 1. The verb finishes what it is doing instead (a rule-changing verb must never stop half-way because a
 * reader left) and exits with its own code; what it writes after that goes nowhere (the stream is destroyed).
 */
export function outliveClosedReaders(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}
