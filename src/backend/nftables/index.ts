/**
 * The native nftables backend: everything tsfirewall owns is `table inet tsfirewall`, so every operation names that
 * table and nothing else. A load is one `nft -f` transaction (both families, the ban sets, the helper, NAT), which
 * is also its test (refused whole, or committed), `check` is `nft -c`, and every read is one `nft -j list table`
 * parsed in parse.ts. Every call goes through nft.ts: libnftables in process, or the program.
 */
import { ApplyError } from '../../errors.js';
import type { RunResult } from '../../exec/run.js';
import { which } from '../../exec/which.js';
import { log } from '../../log.js';
import type { Family, Plan } from '../../model.js';
import { snippetRefusal } from '../snippet-errors.js';
import { LoadRefusedError, type FirewallBackend, type Snapshot, type Staged } from '../types.js';
import { carryBatch, nftBanStore } from './bans.js';
import { replaceSets } from './blocklists.js';
import { nftablesFail2ban } from './fail2ban.js';
import { intactProblems } from './intact.js';
import { TABLE_REF } from './layout.js';
import { flushDocument, forgetDocument, limiterNames, limiterSetsOf } from './limiter.js';
import { nft, nftPath } from './nft.js';
import { parseTable } from './parse.js';
import { removeDocument, renderDocument, rollbackDocument } from './render.js';
import { renderRule } from './rules.js';
import { walkOfRuleset } from './walk.js';

/** The snapshot: the table as `nft list` prints it (a rollback loads that text back), undefined when absent. */
interface SnapshotData { readonly listing?: string; readonly json?: string }
interface StagedData { readonly document: string }

const TABLE_ARGS = TABLE_REF.split(' ');
/** nft's answer when our table is not there: the firewall is stopped, not broken. */
const ABSENT = /No such file or directory/;

const why = (r: RunResult) => r.spawnError ?? (r.stderr.trim() || `exit code ${r.exitCode}`);

/** `nft [-j] list table inet tsfirewall`: the text or JSON, or undefined when the table does not exist. */
async function listTable(json: boolean): Promise<string | undefined> {
  const r = await nft([...(json ? ['-j'] : []), 'list', 'table', ...TABLE_ARGS]);
  if (r.exitCode === 0) return r.stdout;
  if (ABSENT.test(r.stderr)) return undefined;
  throw new ApplyError(`cannot read table ${TABLE_REF}: ${why(r)}`);
}

/** nft's refusal of `document`, traced to a snippet's file and line when it names one. */
const refusal = (r: RunResult, what: string, document: string) =>
  snippetRefusal(what, why(r), document) ?? new ApplyError(`${what}: ${why(r)}`);

async function apply(document: string, what: string, check = false): Promise<void> {
  const r = await nft([...(check ? ['-c'] : []), '-f', '-'], document);
  if (r.exitCode !== 0) throw refusal(r, what, document);
}

/** The load: nft ran and said no, so its one transaction was aborted; killed or timed out, it may have committed. */
async function load(document: string): Promise<void> {
  const r = await nft(['-f', '-'], document);
  if (r.exitCode === 0) return;
  const err = refusal(r, 'nft rejected the ruleset', document);
  throw r.spawnError === undefined ? new LoadRefusedError(err) : err;
}

/**
 * The bans of every set that the snapshot had and the table has now, as they are now: without this a rollback
 * (--confirm running out, a signal after the load) would drop every ban added since the snapshot and bring back
 * every address unbanned since. A snapshot from before the JSON was kept carries nothing.
 */
async function bansSince(snapshotJson: string | undefined): Promise<string> {
  if (snapshotJson === undefined) return '';
  const then = parseTable(snapshotJson).bans;
  const now = parseTable(await listTable(true)).bans;
  return [...now].filter(([set]) => then.has(set)).map(([set, entries]) => carryBatch(set, entries)).join('');
}

export function nftablesBackend(): FirewallBackend {
  return {
    name: 'nftables',
    label: 'nftables',
    testedBy: 'nft -c',
    installed: () => which('nft') !== undefined,
    mayHold: () => true,
    // The text for a rollback and the JSON for what a reload must clean up, read side by side.
    snapshot: async () => {
      const [listing, json] = await Promise.all([listTable(false), listTable(true)]);
      return { backend: 'nftables', data: { listing, json } satisfies SnapshotData };
    },
    stage: (plan: Plan, before: Snapshot | undefined): Staged => {
      const json = (before?.data as { json?: string } | undefined)?.json;
      const document = renderDocument(plan, json === undefined ? undefined : parseTable(json).holdings);
      return { backend: 'nftables', parts: [{ title: 'nft -f -', text: document }], data: { document } satisfies StagedData };
    },
    prepare: async () => { /* the sets are declared inside the one transaction */ },
    // The load is the test (LoadRefusedError): nft -c would cost the kernel an aborted transaction first.
    test: async () => { /* nothing to run */ },
    check: (plan) => apply(renderDocument(plan), 'nft -c rejects the ruleset', true),
    load: (staged) => load((staged.data as StagedData).document),
    rollback: async (before, _attempted, { loaded }) => {
      if (!loaded) return true;
      try {
        const data = before.data as SnapshotData;
        await apply(rollbackDocument(data.listing) + await bansSince(data.json), 'rollback');
        return true;
      } catch (err) {
        log.error((err as Error).message);
        return false;
      }
    },
    readLive: async (families: readonly Family[]) => parseTable(await listTable(true), families).live,
    // Every table, not only ours: each base chain at a hook filters on its own, and a drop in any one is final.
    readWalk: async (family) => {
      const r = await nft(['-j', 'list', 'ruleset']);
      if (r.exitCode !== 0) throw new ApplyError(`cannot read the nftables ruleset: ${why(r)}`);
      const { sets, ...walk } = walkOfRuleset(r.stdout, family);
      return { family, ...walk, facts: { sets } };
    },
    showRule: (rule, at, plan) => [...renderRule(rule, {
      ...at, banChains: new Set(plan.banChains), ipsets: new Map(plan.ipsets.map((s) => [s.name, s])),
    }).lines],
    intact: intactProblems,
    remove: () => apply(removeDocument(), `removing table ${TABLE_REF} failed`),
    bans: nftBanStore(),
    replaceSets,
    readLimiter: async () => parseTable(await listTable(true)).limiter,
    clearLimiter: async (names, sources) => {
      const present = parseTable(await listTable(true)).holdings.sets.map((s) => s.name);
      const wanted = names.length > 0 ? names : limiterNames(present);
      const sets = limiterSetsOf(present, wanted);
      if (sources === undefined) {
        if (sets.length > 0) await apply(flushDocument(sets.map((s) => s.set)), 'clearing the hit-rate limiter failed');
        return wanted.filter((n) => sets.some((s) => s.set.endsWith(`-${n}`)));
      }
      const document = forgetDocument(sets, sources);
      if (document !== '') {
        const r = await nft(['-f', '-'], document);
        if (r.exitCode !== 0 && !ABSENT.test(r.stderr)) log.debug(`forgetting ${sources.length} sources in the hit-rate limiter: ${why(r)}`);
      }
      return wanted;
    },
    fail2banActions: ({ ipv6, source }) => nftablesFail2ban({ nft: nftPath(), ipv6, source }),
  };
}
