/** Reading fail2ban's ini files in tests: the parts a test asserts on. */

/** The [section] blocks of an ini text, as {name: {key: value}}. */
export function sections(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    const head = /^\[(.+)\]$/.exec(line);
    if (head) { current = out[head[1]!] = {}; continue; }
    const kv = /^(\S+)\s*=\s*(.*)$/.exec(line);
    if (kv && current && !line.startsWith('#')) current[kv[1]!] = kv[2]!;
  }
  return out;
}
