// Where the host's Debian mirror is. The image is built from (and its apt is
// pointed at) the same mirror the host uses, since no other host is reachable.
import { readFileSync } from 'node:fs';

export const HOST_SOURCES = '/etc/apt/sources.list.d/debian.sources';
export const FALLBACK_MIRROR = 'http://deb.debian.org/debian';

/** Deb822 stanzas are separated by blank lines; fields may repeat across stanzas. */
export function parseMirror(text: string, suite = 'bookworm'): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    const suites = (fields.get('suites') ?? '').split(/\s+/);
    const types = (fields.get('types') ?? 'deb').split(/\s+/);
    if (!suites.includes(suite) || !types.includes('deb')) continue;
    const uri = (fields.get('uris') ?? '').split(/\s+/)[0];
    if (uri && /^https?:\/\//.test(uri)) return uri.replace(/\/+$/, '');
  }
  return undefined;
}

export function hostMirror(): string {
  try {
    return parseMirror(readFileSync(HOST_SOURCES, 'utf8')) ?? FALLBACK_MIRROR;
  } catch {
    return FALLBACK_MIRROR;
  }
}

/** Every host named in the host's apt sources (a test network must not shadow them). */
export function hostMirrorHosts(): string[] {
  let text = '';
  try {
    text = readFileSync(HOST_SOURCES, 'utf8');
  } catch {
    /* fall back below */
  }
  const hosts = new Set<string>([new URL(FALLBACK_MIRROR).hostname]);
  for (const m of text.matchAll(/^URIs:\s*(.+)$/gim)) {
    for (const uri of (m[1] ?? '').trim().split(/\s+/)) {
      try {
        hosts.add(new URL(uri).hostname);
      } catch {
        /* not a URL: nothing to protect */
      }
    }
  }
  return [...hosts];
}
