/** How config messages quote what the admin wrote. */

const SHOWN_CHARACTERS = 60;

/**
 * Every config message that quotes a value does it through this: at most 60 characters, cut between characters (never
 * inside one), with the value's size in bytes when cut, and control characters escaped. A bad value can be up to the
 * file's 1 MiB, and the message goes to stderr, which under systemd is the journal: it gets one short line, and no
 * terminal escape sequences.
 */
export function quoted(value: string): string {
  const shown = Array.from(value.slice(0, SHOWN_CHARACTERS * 2)).slice(0, SHOWN_CHARACTERS).join('');
  return shown.length === value.length
    ? JSON.stringify(shown)
    : `${JSON.stringify(`${shown}…`)} (${Buffer.byteLength(value, 'utf8')} bytes)`;
}
