/**
 * A verb's result line ("firewall started: ..."), the way the seed's script echoes "Starting iptables: done":
 * command output on stdout, kept apart from diagnostics (src/log.ts), and cheap enough for the hot path.
 */
import { writeSync } from 'node:fs';

export function say(line: string): void {
  writeOut(`${line}\n`);
}

/** Set once the reader has gone (EPIPE) or stdout is closed: the rest of the output goes nowhere, as a stream's would. */
let gone = false;
/** Set once stdout would block (a non-blocking descriptor): from then on the stream queues, in order. */
let queued = false;

/**
 * Command output written straight to descriptor 1. process.stdout is a stream Node makes on first use, for a pipe a
 * socket with node:net and its stream machinery behind it, which costs a status or a start more than the rest of its
 * output work; a blocking write(2) of the finished text needs none of it. Only a descriptor another program left
 * non-blocking (EAGAIN) hands the rest to the stream, and a reader that left (EPIPE) ends the output, not the verb.
 */
export function writeOut(text: string): void {
  if (gone) return;
  if (queued) { process.stdout.write(text); return; }
  const bytes = Buffer.from(text);
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE' || code === 'EBADF') { gone = true; return; }
    if (code !== 'EAGAIN') throw err;
    queued = true;
    process.stdout.write(bytes.subarray(offset));
  }
}

/**
 * A reader that closes its end of the pipe early (`tsfirewall bans | head -3`) ends our output, not the command: Node
 * ignores SIGPIPE, so the write fails with EPIPE, and without a listener that is an uncaught error, a stack trace and
 * exit 1. The verb finishes what it is doing instead (a rule-changing verb must never stop half-way because a
 * reader left) and exits with its own code; what it writes after that goes nowhere (the stream is destroyed).
 * Node makes process.stdout and process.stderr on first use (a socket for a pipe, and node:net with it), which a
 * verb then paid for before its first program; so the listener is added when each stream is first asked for, and
 * a verb that writes no diagnostic never makes stderr at all.
 */
export function outliveClosedReaders(names: readonly ('stdout' | 'stderr')[] = ['stdout', 'stderr']): void {
  for (const name of names) {
    const made = Object.getOwnPropertyDescriptor(process, name);
    if (!made?.get || !made.configurable) {
      keepGoing(process[name]);
      continue;
    }
    const make = made.get;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: made.enumerable,
      get() {
        const stream = make.call(process) as NodeJS.WriteStream;
        Object.defineProperty(process, name, { ...made, get: () => stream });
        keepGoing(stream);
        return stream;
      },
    });
  }
}

function keepGoing(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}
