/**
 * A tool's refusal of a document, traced back to the raw snippet that caused it: nft and iptables-restore name the
 * line of the document they stopped at, and a snippet's rule carries its file and line in its marker
 * (model.ts markerOf), so the admin is told which file and line to fix rather than a line of a document they never
 * wrote. Both backends' test, load and check failures pass through here.
 */
import { TsfwError } from '../errors.js';
import { TABLE_REF } from './nftables/layout.js';

/** A snippet the backend's own check refused: bad config, so exit 6, and nothing was applied. */
export class SnippetRefusedError extends TsfwError {
  constructor(message: string) { super(message, 6); }
}

const ORIGIN = /tsfw:snippet:([A-Za-z0-9][A-Za-z0-9_.-]*):(\d+)/;
/** How each tool names the line it refused: nft's "/dev/stdin:LINE:COL", iptables-restore's "at line: N". */
const LINE_REFS = [/(?:\/dev\/stdin|-):(\d+):/g, /Error occurred at line: (\d+)/g, /line (\d+) failed/g];
/** How each backend's document starts a rule line: iptables-restore's `-A CHAIN`, nftables' `add rule TABLE CHAIN`. */
const RULE_PREFIX = new RegExp(`^(?:-A \\S+|add rule ${TABLE_REF} \\S+) `);
const MARKER = / ?(?:-m comment --comment "?tsfw:snippet:[^" ]*"?|comment "tsfw:snippet:[^"]*")/;

/**
 * The refusal as a SnippetRefusedError when the line the tool names is a snippet's rule, or (iptables-nft checks
 * targets only as it commits, and names the COMMIT line) the table it refused holds snippet rules; otherwise
 * undefined, and the caller reports the tool's own words.
 */
export function snippetRefusal(what: string, reason: string, document: string): SnippetRefusedError | undefined {
  const lines = document.split('\n');
  const refs = LINE_REFS.flatMap((re) => [...reason.matchAll(re)].map((m) => Number(m[1])));
  for (const n of refs) {
    const text = lines[n - 1] ?? '';
    const origin = ORIGIN.exec(text);
    if (origin) {
      const rule = text.trim().replace(MARKER, '').replace(RULE_PREFIX, '');
      return new SnippetRefusedError(`${what}: the snippet ${origin[1]}, line ${origin[2]} (${rule}): ${reason}`);
    }
    if (text.trim() === 'COMMIT') {
      const start = lines.slice(0, n - 1).map((l) => l.startsWith('*')).lastIndexOf(true);
      const names = [...new Set(lines.slice(start, n - 1).map((l) => ORIGIN.exec(l)?.[1]).filter((x): x is string => x !== undefined))];
      if (names.length > 0) {
        return new SnippetRefusedError(`${what}: the ${lines[start]!.slice(1)} table was refused as it was committed, and it holds the rules of ${names.join(', ')}: ${reason}`);
      }
    }
  }
  return undefined;
}
