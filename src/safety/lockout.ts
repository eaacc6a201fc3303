/**
 * The lock-out guard: start/reload/restart refuse a ruleset that would drop a live SSH session (the command's own,
 * or any the kernel holds) unless --force. Conntrack's ESTABLISHED accept keeps the open session alive through most mistakes, so the real
 * questions are whether a NEW connection from the admin's address to the SSH port would be accepted, and whether a
 * rule before the replies accept (the bans) would drop even the open one.
 */
import type { BanTarget, FirewallBackend } from '../backend/types.js';
import { describeLimit, describeRule } from '../compile/describe.js';
import { TsfwError } from '../errors.js';
import { log } from '../log.js';
import type { Family, Plan, Rule } from '../model.js';
import type { SshSession } from './admin.js';
import { liveSessions, type LiveSession } from './sessions.js';
import { evaluateChain, evaluateInput, type Verdict } from './evaluate.js';
import { reachedBy } from './ingress.js';

/** The ruleset would cut off the admin's SSH session; nothing was changed. */
export class LockoutError extends TsfwError {
  constructor(message: string) { super(message, 1); }
}

export interface LockoutCheck {
  /** Reasons the session would certainly be cut off. */
  readonly refusals: readonly string[];
  /** Things that could cut it off later (hit-rate limits), worth a warning. */
  readonly cautions: readonly string[];
  /** Ban lookups on the session's path: whether they hold the admin's address is a question for the kernel. */
  readonly banRules: readonly Rule[];
}

/**
 * Pure: what the plan would do to this session, its packets in (a new connection's and the open one's) and its
 * replies out (OUTPUT_POLICY=drop: conntrack calls even a new connection's SYN-ACK established). `iface` is the
 * interface the client is reached by, where the routes say (SERVICE_<NAME>_INTERFACES, INTERFACE_<IF>_POLICY).
 */
export function checkSession(plan: Plan, s: SshSession, iface?: string): LockoutCheck {
  const family: Family = s.client.includes(':') ? 'ipv6' : 'ipv4';
  const ruleset = plan.rulesets.find((r) => r.family === family);
  if (!ruleset) return { refusals: [], cautions: [], banRules: [] };
  const refusals: string[] = [];
  const conditional = new Set<Rule>();
  const on = iface === undefined ? {} : { iface };
  const by = (v: Verdict<Rule>, chain: string) => (v.rule ? `the rule "${describeRule(v.rule)}"` : `the ${family} ${chain} policy DROP`);
  for (const state of ['NEW', 'ESTABLISHED'] as const) {
    const v = evaluateInput(ruleset, { src: s.client, dst: s.server, proto: 'tcp', dport: s.serverPort, state, ...on });
    v.conditional.forEach((r) => conditional.add(r));
    if (v.action !== 'ACCEPT') {
      const what = state === 'NEW' ? 'a new SSH connection' : 'this open SSH session';
      refusals.push(`${what} from ${s.client} to ${s.server} port ${s.serverPort} would be dropped by ${by(v, 'INPUT')}`);
    }
  }
  const replies = evaluateChain(ruleset, 'OUTPUT', { src: s.server, dst: s.client, proto: 'tcp', dport: s.clientPort, state: 'ESTABLISHED', ...on });
  if (replies.action === 'DROP') {
    refusals.push(`the replies of SSH from ${s.server} port ${s.serverPort} to ${s.client} (this session's, and a new one's) would be dropped by ${by(replies, 'OUTPUT')}`);
  }
  const cautions = [...conditional].filter((r) => r.match.rateLimit).map((r) =>
    `the hit-rate limit "${describeLimit(r)}" applies to your address too: more than ${r.match.rateLimit!.hits} new ` +
    `connections in ${r.match.rateLimit!.seconds} s from ${s.client} are dropped`);
  cautions.push(...[...conditional].filter((r) => r.target.kind === 'RAW').map((r) =>
    `the snippet rule "${describeRule(r)}" (${r.origin}) comes before your session is accepted; tsfirewall cannot tell whether it drops ${s.client}`));
  const banRules = [...conditional].filter((r) => r.match.srcSet !== undefined || r.target.kind === 'jump');
  return { refusals: [...new Set(refusals)], cautions, banRules };
}

/**
 * Throws LockoutError (exit 1) before anything is applied, unless `force`; a no-op with no live session. Every live
 * session is checked, from the environment or the kernel (safety/sessions.ts), logged in or not: a refused reload
 * costs a --force, a wrong one a trip to the console.
 */
export async function guardSession(
  plan: Plan, backend: FirewallBackend,
  opts: {
    force: boolean; env?: NodeJS.ProcessEnv; sessions?: readonly LiveSession[]; serverFallback?: string;
    /** The interface a client is reached by; default: the kernel's routes (safety/ingress.ts). */
    reachedBy?: (client: string) => string | undefined;
  },
): Promise<void> {
  const sessions = opts.sessions ?? liveSessions({ env: opts.env ?? process.env, serverFallback: opts.serverFallback });
  const ifaceOf = opts.reachedBy ?? ((client: string) => reachedBy(client));
  const blocks: string[] = [];
  const forced: string[] = [];
  for (const session of sessions) {
    const check = checkSession(plan, session, ifaceOf(session.client));
    const own = session.via !== 'kernel';
    // A kernel session whose client is banned now was cut by that ban already, not by this ruleset; and an
    // attacker's connection to sshd outlives its ban by up to LoginGraceTime, which must not stop every reload.
    const refusals = [...check.refusals, ...(own ? await liveBans(check.banRules, session.client, backend) : [])];
    if (own) for (const c of check.cautions) log.warn(c);
    if (refusals.length === 0) continue;
    forced.push(...refusals);
    blocks.push(`${own ? 'refusing to lock out this SSH session' : `refusing to lock out a live SSH session (${describeSession(session)})`}:\n  ${refusals.join('\n  ')}`);
  }
  if (blocks.length === 0) return;
  if (opts.force) {
    for (const r of forced) log.warn(`${r} (applying anyway: --force)`);
    return;
  }
  throw new LockoutError(`${blocks.join('\n')}\n` +
    'nothing was changed; to load it anyway add --force (with --confirm 60 it is rolled back unless you confirm)');
}

const endpoint = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** "198.51.100.20:50022 -> 192.0.2.10:22, seen in /proc/net/tcp": which session, and how it was found. */
export function describeSession(s: LiveSession): string {
  const where = s.via === 'kernel' ? `seen in /proc/net/tcp${s.client.includes(':') ? '6' : ''}${s.loggedIn ? ', logged in' : ''}` : `from ${s.via}`;
  return `${endpoint(s.client, s.clientPort)} -> ${endpoint(s.server, s.serverPort)}, ${where}`;
}

/**
 * Whether the kernel's ban sets/chains on the session's path hold the admin's address right now. Each is asked
 * once, all at once: the questions are reads, independent of each other.
 */
async function liveBans(rules: readonly Rule[], client: string, backend: FirewallBackend): Promise<string[]> {
  const family: Family = client.includes(':') ? 'ipv6' : 'ipv4';
  const targets = new Map<string, BanTarget>();
  for (const rule of rules) {
    if (rule.match.srcSet !== undefined) targets.set(`set ${rule.match.srcSet}`, { family, name: rule.match.srcSet, kind: 'set' });
    else if (rule.target.kind === 'jump') targets.set(`chain ${rule.target.chain}`, { family, name: rule.target.chain, kind: 'chain' });
  }
  const found = await Promise.all([...targets].map(async ([where, target]) =>
    ((await backend.bans.holds(target, client)) ? `your address ${client} is banned in ${where} (unban it first)` : undefined)));
  return found.filter((f): f is string => f !== undefined);
}
