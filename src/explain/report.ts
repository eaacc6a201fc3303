/**
 * explain's answer, from the walk's verdict: the verdict, the rule (as the backend's listing and `show` print it) or
 * the policy that decided, its chain and group, the ban behind it (jail and time left) and the path through the
 * chains; as JSON for scripts and as lines for people. Pure.
 */
import type { Hook, KernelFacts, WalkRule } from '../backend/types.js';
import type { Group } from '../model.js';
import type { Verdict } from '../safety/evaluate.js';
import { covers, familyOf, type Probe } from '../safety/packet-match.js';
import { duration, GROUP_TITLES } from '../status/format.js';

/** Where one jail keeps its bans: its set and chain names (every family's). */
export interface JailPlace { readonly jail: string; readonly names: readonly string[] }

export interface BanFound {
  readonly jail?: string;
  /** The set or chain that holds the ban. */
  readonly in: string;
  readonly expiresIn?: number;
}

export interface PathStep {
  readonly chain: string;
  readonly outcome: 'matched' | 'missed' | 'maybe' | 'passed' | 'policy';
  readonly rule?: string;
  readonly group?: string;
  readonly policy?: string;
  readonly notes: readonly string[];
}

export interface Answer {
  readonly verdict: 'accept' | 'drop' | 'reject';
  /** The deciding rule's text, or "policy ACCEPT"/"policy DROP" when a chain's policy decided. */
  readonly rule: string;
  readonly chain: string | null;
  readonly group: string | null;
  /** False when a rule on the way could not be judged and could have changed the verdict. */
  readonly certain: boolean;
  readonly packet: Probe & { readonly family: 'ipv4' | 'ipv6'; readonly hook: Hook };
  readonly ban: BanFound | null;
  readonly path: readonly PathStep[];
  readonly backend: string;
}

/**
 * The ban behind a verdict, if a ban decided it: a lookup in a jail's set (the member's time left), or a rule in a
 * jail's chain (the seed's chain mode; `chainLeft` is the ledger's time for a ban the kernel does not time).
 */
export function banOf(rule: WalkRule | undefined, probe: Probe, jails: readonly JailPlace[], facts: KernelFacts,
  chainLeft: (chain: string, ip: string) => number | undefined = () => undefined): BanFound | null {
  if (!rule || rule.target.kind === 'ACCEPT') return null;
  const jailOf = (name: string) => jails.find((j) => j.names.includes(name))?.jail;
  const set = rule.match.srcSet;
  if (set !== undefined) {
    const jail = jailOf(set);
    const member = facts.sets?.get(set)?.find((m) => covers(m.ip, probe.src));
    if (jail === undefined && !/^f2b6?-/.test(set)) return null;
    return { ...(jail ? { jail } : {}), in: `set ${set}`, ...(member?.expiresIn === undefined ? {} : { expiresIn: member.expiresIn }) };
  }
  const jail = jailOf(rule.chain);
  if (jail === undefined) return null;
  const left = chainLeft(rule.chain, probe.src);
  return { jail, in: `chain ${rule.chain}`, ...(left === undefined ? {} : { expiresIn: left }) };
}

export function answerOf(v: Verdict<WalkRule>, probe: Probe, hook: Hook, backend: string, ban: BanFound | null): Answer {
  const policyStep = v.rule === undefined ? v.path.filter((s) => s.outcome === 'policy').at(-1) : undefined;
  return {
    verdict: v.action.toLowerCase() as Answer['verdict'],
    rule: v.rule?.text ?? `policy ${policyStep?.policy ?? v.action}`,
    chain: v.chain ?? null,
    group: v.rule?.group ?? null,
    certain: v.certain,
    packet: { ...probe, family: familyOf(probe.src), hook },
    ban,
    path: v.path.map((s) => ({
      chain: s.chain, outcome: s.outcome, ...(s.rule ? { rule: s.rule.text } : {}), ...(s.rule?.group ? { group: s.rule.group } : {}),
      ...(s.policy ? { policy: s.policy } : {}), notes: s.notes,
    })),
    backend,
  };
}

const OUTCOME_WORDS: Readonly<Record<PathStep['outcome'], string>> = {
  matched: 'match', missed: 'no match', maybe: 'maybe', passed: 'passes', policy: 'end',
};

const describePacket = (p: Answer['packet']) =>
  `${p.src} -> ${p.dst ?? 'this host'} ${p.proto}${p.dport === undefined ? ' echo request' : ` port ${p.dport}`}` +
  `${p.iface ? ` on ${p.iface}` : ''} (${p.state.toLowerCase()})`;

const groupTitle = (group: string) => GROUP_TITLES[group as Group] ?? group;

/** The lines people read: the verdict first, then what decided it, the ban, and the way there. */
export function formatAnswer(a: Answer): string {
  const lines = [`${a.verdict.toUpperCase()}: ${describePacket(a.packet)}, ${a.packet.hook} hook (${a.backend})`];
  lines.push(a.chain === null ? `decided by: ${a.rule} (nothing filters this hook)` : `decided by: ${a.rule}`);
  if (a.chain !== null) {
    const what = a.group ? `, group ${a.group} (${groupTitle(a.group)})` : a.rule.startsWith('policy ') ? ''
      : a.ban ? ', an entry of the ban list' : ', a rule that is not tsfirewall\'s';
    lines.push(`  in chain ${a.chain}${what}`);
  }
  if (a.ban) {
    lines.push(`banned: ${a.ban.jail ? `jail ${a.ban.jail}` : 'by a ban list'} (${a.ban.in}), ` +
      `${a.ban.expiresIn === undefined ? 'until unbanned' : `${duration(a.ban.expiresIn)} left`}`);
  }
  if (!a.certain) lines.push('uncertain: a rule on the way could not be judged (marked "maybe" below) and could change this');
  lines.push('path:');
  const width = Math.max(0, ...a.path.map((s) => s.chain.length));
  for (const s of a.path) {
    const what = s.outcome === 'policy' ? `policy ${s.policy}` : `${OUTCOME_WORDS[s.outcome].padEnd(8)} ${s.rule ?? ''}`;
    lines.push(`  ${s.chain.padEnd(width)}  ${what}`);
    for (const n of s.notes) lines.push(`  ${' '.repeat(width)}           ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
