/**
 * What `metrics` reports, as data: the facts one read of the firewall gathered (sample.ts) -> Prometheus metric
 * families, every name `tsfirewall_`. Pure, so unit tests pin each family; expose.ts turns them into the text
 * format. Counters come straight from the kernel's rule counters and the ban tallies, so they reset when a reload
 * replaces the rules or fail2ban restarts: Prometheus' rate() and increase() take such resets in their stride.
 */
import type { LimiterEntry, LiveRule, LiveState } from '../backend/types.js';
import type { JailCount } from '../bans/counts.js';
import type { JailTally } from '../bans/tally.js';
import type { Family } from '../model.js';
import type { DaemonState, JailStats } from '../services/fail2ban.js';
import type { Drift } from '../state/loaded.js';
import { APPLY_RESULTS, type ApplyOutcome } from '../state/last-apply.js';
import { STATES, type FirewallState } from '../status/state.js';
import type { FleetStatus } from './fleet.js';

export type Labels = Readonly<Record<string, string>>;
export interface Sample { readonly labels: Labels; readonly value: number }
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: readonly Sample[];
}

export interface MetricsInput {
  readonly version: string;
  readonly backend: string;
  readonly state: FirewallState;
  readonly live: LiveState;
  /** What keeps the loaded ruleset from being what was loaded (status/intact.ts); [] when whole or not judged. */
  readonly problems: readonly string[];
  readonly drift?: Drift;
  readonly bans: readonly JailCount[];
  readonly limiter: Readonly<Record<string, readonly LimiterEntry[]>>;
  readonly tally: Readonly<Record<string, JailTally>>;
  readonly daemon: DaemonState;
  /** fail2ban's own figures per jail, when it runs. */
  readonly fail2ban: ReadonlyMap<string, JailStats>;
  readonly lastApply?: ApplyOutcome;
  readonly fleet?: FleetStatus;
}

const PENDING_REASONS: readonly Drift['reason'][] = ['config', 'address', 'backend'];

/** What a service's rule does, as the `rule` label says it. */
function serviceRule(r: LiveRule): string {
  if (r.group === 'bans') return 'ban';
  if (r.group === 'helpers') return 'helper';
  return r.role ?? 'accept';
}

/** iptables' tsfw-input and nftables' INPUT are both the input hook: the label backends agree on. */
const hookOf = (chain: string) => chain.replace(/^tsfw-/, '').toLowerCase();

/** Sums `value` of the items per label set, keeping the first-seen order. */
function sum<T>(items: readonly T[], labels: (t: T) => Labels | undefined, value: (t: T) => number): Sample[] {
  const out = new Map<string, Sample>();
  for (const item of items) {
    const l = labels(item);
    if (l === undefined) continue;
    const key = JSON.stringify(l);
    out.set(key, { labels: l, value: (out.get(key)?.value ?? 0) + value(item) });
  }
  return [...out.values()];
}

const family = (name: string, type: MetricFamily['type'], help: string, samples: readonly Sample[]): MetricFamily =>
  ({ name: `tsfirewall_${name}`, type, help, samples });
const one = (value: number, labels: Labels = {}): Sample[] => [{ labels, value }];

function ruleFamilies(live: LiveState): MetricFamily[] {
  const rules = [...live.families].flatMap(([fam, f]) => f.rules.map((r) => ({ fam, r })));
  // Our final verdicts: iptables' tsfw:policy DROP rules, nftables' policy rule folded into its chain.
  const policyRules = rules.filter(({ r }) => r.group === 'policy' && /-j DROP$/.test(r.rule))
    .map(({ fam, r }) => ({ fam, chain: hookOf(r.chain), packets: r.packets, bytes: r.bytes }));
  const policyChains = [...live.families].flatMap(([fam, f]) => f.chains.filter((c) => c.ours && c.policy === 'DROP')
    .map((c) => ({ fam, chain: hookOf(c.name), packets: c.packets, bytes: c.bytes })));
  const policy = [...policyRules, ...policyChains];
  const byGroup = (r: LiveRule, fam: Family) => (r.group === undefined || r.group === 'policy' ? undefined : { family: fam, group: r.group });
  const byService = (r: LiveRule, fam: Family) => (r.service === undefined ? undefined : { family: fam, service: r.service, rule: serviceRule(r) });
  const limiter = (r: LiveRule, fam: Family) => (r.role === 'limit' && r.service !== undefined ? { family: fam, service: r.service } : undefined);
  return [
    family('rule_packets_total', 'counter', 'Packets matched by the rules of each group (the talk\'s annotations), per family.',
      sum(rules, ({ fam, r }) => byGroup(r, fam), ({ r }) => r.packets)),
    family('rule_bytes_total', 'counter', 'Bytes matched by the rules of each group, per family.',
      sum(rules, ({ fam, r }) => byGroup(r, fam), ({ r }) => r.bytes)),
    family('service_packets_total', 'counter',
      'Packets per service and rule: accept (let in), limit (dropped by the hit-rate limiter), log, ban (dropped as banned), helper (conntrack helper).',
      sum(rules, ({ fam, r }) => byService(r, fam), ({ r }) => r.packets)),
    family('service_bytes_total', 'counter', 'Bytes per service and rule, as tsfirewall_service_packets_total.',
      sum(rules, ({ fam, r }) => byService(r, fam), ({ r }) => r.bytes)),
    family('policy_dropped_packets_total', 'counter', 'Packets dropped by the policy: what no rule accepted, per family and chain.',
      sum(policy, (p) => ({ family: p.fam, chain: p.chain }), (p) => p.packets)),
    family('policy_dropped_bytes_total', 'counter', 'Bytes dropped by the policy, per family and chain.',
      sum(policy, (p) => ({ family: p.fam, chain: p.chain }), (p) => p.bytes)),
    family('limiter_hits_total', 'counter', 'New connections the hit-rate limiter dropped, per service and family.',
      sum(rules, ({ fam, r }) => limiter(r, fam), ({ r }) => r.packets)),
  ];
}

function banFamilies(input: MetricsInput): MetricFamily[] {
  const jails = input.bans.map((b) => b.jail);
  const added: Sample[] = [];
  const removed: Sample[] = [];
  for (const jail of jails) {
    const t = input.tally[jail] ?? { added: 0, removed: 0, expired: 0 };
    added.push({ labels: { jail, by: 'tsfirewall' }, value: t.added });
    removed.push({ labels: { jail, by: 'tsfirewall' }, value: t.removed + t.expired });
    const f = input.fail2ban.get(jail);
    if (f) {
      added.push({ labels: { jail, by: 'fail2ban' }, value: f.totalBanned });
      removed.push({ labels: { jail, by: 'fail2ban' }, value: Math.max(0, f.totalBanned - f.currentlyBanned) });
    }
  }
  return [
    family('bans', 'gauge', 'Addresses banned now, per jail, as the kernel\'s ban sets and chains hold them.',
      input.bans.filter((b) => b.count !== null).map((b) => ({ labels: { jail: b.jail }, value: b.count! }))),
    family('bans_added_total', 'counter', 'Bans added per jail: by tsfirewall (ban) since its state directory began, by fail2ban since its server started.', added),
    family('bans_removed_total', 'counter', 'Bans removed per jail: by tsfirewall (unban, expired chain-mode bans), by fail2ban (its unbans).', removed),
    family('bans_expired_total', 'counter', 'Chain-mode bans tsfirewall lifted because their ban time was over, per jail.',
      jails.map((jail) => ({ labels: { jail }, value: input.tally[jail]?.expired ?? 0 }))),
    family('jail_failures_total', 'counter', 'Failures (failed logins...) fail2ban counted per jail since its server started.',
      [...input.fail2ban].map(([jail, f]) => ({ labels: { jail }, value: f.failed }))),
    family('ban_daemon_up', 'gauge', '1 when fail2ban runs.', one(input.daemon === 'running' ? 1 : 0)),
    family('limiter_sources', 'gauge', 'Sources the hit-rate limiter remembers now, per limiter name.',
      Object.entries(input.limiter).map(([limiter, entries]) => ({ labels: { limiter }, value: entries.length }))),
  ];
}

function applyFamilies(a: ApplyOutcome | undefined): MetricFamily[] {
  if (!a) return [];
  return [
    family('last_apply_duration_seconds', 'gauge', 'How long the last start/reload/restart took to apply (snapshot to commit, a --confirm wait included).', one(a.seconds)),
    family('last_apply_timestamp_seconds', 'gauge', 'When the last apply ended, in seconds since the epoch.', one(a.finished)),
    family('last_apply_success', 'gauge', '1 when the last apply loaded its ruleset, 0 when it failed.', one(a.result === 'ok' ? 1 : 0)),
    family('last_apply_result', 'gauge', 'The last apply\'s result (1 for the one it had): ok, unchanged (refused before any change), rolled-back, rollback-failed.',
      APPLY_RESULTS.map((result) => ({ labels: { result, verb: a.verb }, value: result === a.result ? 1 : 0 }))),
  ];
}

function fleetFamilies(f: FleetStatus | undefined): MetricFamily[] {
  if (!f) return [];
  return [
    family('fleet_lag_seconds', 'gauge', 'How far this host\'s bans are behind the fleet\'s, as the fleet status file says.', one(f.lagSeconds)),
    ...(f.updated === undefined ? [] : [family('fleet_status_timestamp_seconds', 'gauge', 'When the fleet status file was last written.', one(f.updated))]),
  ];
}

export function metricFamilies(input: MetricsInput): MetricFamily[] {
  const all = [
    family('info', 'gauge', 'Always 1: the version and the backend in use as labels.', one(1, { version: input.version, backend: input.backend })),
    family('loaded', 'gauge', '1 when a ruleset of ours is loaded.', one(input.live.loaded ? 1 : 0)),
    family('state', 'gauge', 'The state status names (1 for the current one): running, early, degraded, tampered, stopped.',
      STATES.map((state) => ({ labels: { state }, value: state === input.state ? 1 : 0 }))),
    family('intact', 'gauge', '0 when the loaded rules were changed from outside (tamper), else 1.', one(input.problems.length > 0 ? 0 : 1)),
    family('tamper_problems', 'gauge', 'How many problems keep the loaded rules from being what was loaded.', one(input.problems.length)),
    family('pending', 'gauge', 'Drift (1 for the reason there is one): the loaded rules are no longer what start would load, because of the config, the address or the backend.',
      PENDING_REASONS.map((reason) => ({ labels: { reason }, value: input.drift?.reason === reason ? 1 : 0 }))),
    ...ruleFamilies(input.live),
    ...banFamilies(input),
    ...applyFamilies(input.lastApply),
    ...fleetFamilies(input.fleet),
  ];
  return all.filter((f) => f.samples.length > 0);
}
