/**
 * Raw snippets: rules in the backend's own language that tsfirewall places at a named point of its ruleset. Only
 * the shape is checked here, line by line (one rule per line, a chain the point has, nothing that could step out of
 * the rule or hand a chain of someone else's to tsfirewall); what a rule means is the backend's own check, run on
 * the whole document in the same transaction (`nft -f`, refused whole; `iptables-restore --test`).
 *
 * iptables (`NAME.POINT.rules`, `.rules6` for IPv6): iptables-restore lines `-A CHAIN rule...`, CHAIN a built-in
 * chain of the point's table. nftables (`NAME.POINT.nft`): blocks `chain HOOK { ... }` with one rule a line, HOOK
 * the lower-case name of such a chain.
 */
import type { ConfigProblem } from '../errors.js';
import type { Family, TableName } from '../model.js';
import { SNIPPET_EXTENSIONS, type SnippetPoint, type SnippetText } from './dropins.js';
import { quoted } from './quote.js';

export interface SnippetRule {
  /** The plan's chain (INPUT, PREROUTING...). */
  readonly chain: string;
  /** The rule in the tool's own words, without `-A CHAIN` (iptables) or its block (nft). */
  readonly text: string;
  readonly line: number;
}

export interface Snippet {
  readonly file: string;
  /** The file name: every rule's marker names it, so the kernel says which file a rule came from. */
  readonly name: string;
  readonly point: SnippetPoint;
  readonly syntax: 'nft' | 'iptables';
  /** iptables snippets are per family; an nft one goes into every family tsfirewall filters. */
  readonly family?: Family;
  readonly rules: readonly SnippetRule[];
}

/** Each point's table and the chains it offers, as the plan names them. */
export const POINT_CHAINS: Readonly<Record<SnippetPoint, { readonly table: TableName; readonly chains: readonly string[] }>> = {
  before: { table: 'filter', chains: ['INPUT', 'FORWARD', 'OUTPUT'] },
  after: { table: 'filter', chains: ['INPUT', 'FORWARD', 'OUTPUT'] },
  nat: { table: 'nat', chains: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] },
  raw: { table: 'raw', chains: ['PREROUTING', 'OUTPUT'] },
};

const MAX_LINE = 1000;

/**
 * The targets a snippet rule may jump to: extensions, never a chain. Whatever a rule of ours jumps to is ours (the
 * iptables ownership model), so a jump to DOCKER-USER would hand Docker's chain to tsfirewall's next reload.
 */
const IPTABLES_TARGETS = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'SET', 'TCPMSS',
  'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'NFQUEUE', 'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'TEE',
  'CHECKSUM', 'TPROXY', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'RATEEST', 'SYNPROXY', 'LED', 'HMARK',
]);
/** Words that would start another rule or command on the same line. */
const IPTABLES_COMMANDS = new Set(['-A', '--append', '-I', '--insert', '-D', '--delete', '-R', '--replace', '-N', '--new-chain',
  '-X', '--delete-chain', '-F', '--flush', '-P', '--policy', '-Z', '--zero', '-E', '--rename-chain', '-t', '--table']);
/** nft words a snippet rule cannot use: our marker is the rule's comment, and a jump could reach any chain of ours. */
const NFT_REFUSED = new Set(['comment', 'jump', 'goto']);

/** The rule's words, quoted strings kept whole; undefined when a quote is not closed. */
function words(text: string): string[] | undefined {
  const out = text.match(/"[^"]*"|'[^']*'|[^\s"']+/g) ?? [];
  return out.join('').replace(/\s/g, '') === text.replace(/\s/g, '') ? out : undefined;
}

function iptablesRule(content: string, chains: readonly string[]): string | { chain: string; text: string } {
  const m = /^-A\s+(\S+)\s+(.+)$/.exec(content);
  if (!m) return `expected "-A CHAIN rule" (CHAIN one of ${chains.join(', ')}), got ${quoted(content)}`;
  const [, chain, text] = m as unknown as [string, string, string];
  if (!chains.includes(chain)) return `chain ${chain} is not at this point; use one of ${chains.join(', ')}`;
  const w = words(text);
  if (!w) return 'a quote is not closed on this line';
  const command = w.find((x) => IPTABLES_COMMANDS.has(x));
  if (command) return `${command} starts another command: one rule per line`;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === '-g' || w[i] === '--goto') return 'a snippet rule cannot go to a chain (-g)';
    if ((w[i] === '-j' || w[i] === '--jump') && !IPTABLES_TARGETS.has(w[i + 1] ?? '')) {
      return `-j ${w[i + 1] ?? ''}: a snippet rule jumps only to a target (ACCEPT, DROP, REJECT, LOG, DNAT...), never to a chain: tsfirewall would take the chain for its own`;
    }
  }
  return { chain, text };
}

/** Why an nft rule line could step out of its rule, or undefined when it cannot. */
function nftRuleProblem(content: string): string | undefined {
  const w = words(content);
  if (!w) return 'a quote is not closed on this line';
  const bare = w.filter((x) => !/^["']/.test(x));
  const joined = bare.join(' ');
  if (/[;#]/.test(joined)) return `"${/[;#]/.exec(joined)![0]}" is not allowed in a snippet rule: one rule per line, comments on lines of their own`;
  // Every brace opened on the line closes on it, and none closes what the line did not open (the chain's own block).
  let depth = 0;
  for (const c of joined) {
    depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    if (depth < 0) break;
  }
  if (depth !== 0) return 'the braces on this line do not balance';
  const refused = bare.find((x) => NFT_REFUSED.has(x));
  if (refused === 'comment') return 'a snippet rule carries tsfirewall\'s marker as its comment; put your comment on a # line';
  if (refused) return `a snippet rule cannot ${refused} to a chain`;
  return undefined;
}

/** Parses one snippet's text; problems name its file and line. */
export function parseSnippet(file: SnippetText): { snippet: Snippet; problems: ConfigProblem[] } {
  const { syntax, family } = SNIPPET_EXTENSIONS[file.extension];
  const allowed = POINT_CHAINS[file.point].chains;
  const problems: ConfigProblem[] = [];
  const rules: SnippetRule[] = [];
  let block: string | undefined;
  let opened = 0;
  file.text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\r$/, '').trim();
    const problem = (message: string) => problems.push({ file: file.path, line, message });
    if (content === '' || content.startsWith('#')) return;
    if (content.length > MAX_LINE) return problem(`line is ${content.length} characters; the limit is ${MAX_LINE}`);
    if (syntax === 'iptables') {
      const r = iptablesRule(content, allowed);
      if (typeof r === 'string') return problem(r);
      return rules.push({ ...r, line });
    }
    const head = /^chain\s+(\S+)\s*\{$/.exec(content);
    if (head) {
      const chain = head[1]!.toUpperCase();
      if (block !== undefined) return problem(`chain ${head[1]} opens inside chain ${block.toLowerCase()} (opened on line ${opened})`);
      if (!allowed.includes(chain)) return problem(`chain ${head[1]} is not at this point; use one of ${allowed.map((c) => c.toLowerCase()).join(', ')}`);
      block = chain;
      opened = line;
      return undefined;
    }
    if (content === '}') {
      if (block === undefined) return problem('"}" closes no chain');
      block = undefined;
      return undefined;
    }
    if (block === undefined) return problem(`a rule outside a "chain ${allowed[0]!.toLowerCase()} { ... }" block: ${quoted(content)}`);
    const bad = nftRuleProblem(content);
    return bad ? problem(bad) : rules.push({ chain: block, text: content, line });
  });
  if (block !== undefined) problems.push({ file: file.path, line: opened, message: `chain ${block.toLowerCase()} is not closed` });
  return { snippet: { file: file.path, name: file.name, point: file.point, syntax, ...(family ? { family } : {}), rules }, problems };
}
