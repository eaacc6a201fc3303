/**
 * The iptables backends (iptables-nft and iptables-legacy): the seam's operations over one flavour's programs,
 * assembled from the modules beside this one. Loaded only when the chosen backend is an iptables one.
 */
import { readFileSync } from 'node:fs';
import { which } from '../../exec/which.js';
import { run } from '../../exec/run.js';
import { nft } from '../nftables/nft.js';
import type { Family } from '../../model.js';
import type { FirewallBackend, LiveFamily, LiveWalk, SetMember } from '../types.js';
import { iptablesBanStore } from './ban-store.js';
import { setCounts, setMembers } from './bans.js';
import { replaceSets } from './blocklists.js';
import { iptablesActions } from './fail2ban.js';
import { intactProblems } from './intact.js';
import { limiterEntries, forgetSources, recentSources } from './limiter.js';
import { isBootRuleset, isLoaded, parseSave, readSaved } from './parse.js';
import { programsFor, type Flavour, type IptablesPrograms } from './programs.js';
import { removeOwned } from './remove.js';
import { ownChain } from './ownership.js';
import { renderRule } from './render.js';
import { walkOfSaved } from './walk.js';
import { checkPlan } from './check.js';
import { loadStaged, prepareSets, rollbackTo, stageAgainst, takeSnapshot, testStaged } from './transaction.js';

/** The kernel lists each legacy table it has in this namespace here; no file, or empty ones, means none. */
const LEGACY_TABLE_LISTS = ['/proc/net/ip_tables_names', '/proc/net/ip6_tables_names'];

function legacyTablesPresent(): boolean {
  return LEGACY_TABLE_LISTS.some((file) => {
    try {
      return readFileSync(file, 'utf8').trim() !== '';
    } catch {
      return false;
    }
  });
}

/**
 * iptables-nft keeps its tables in nftables, as tables of family ip and ip6 with iptables' names: without one it
 * holds nothing. One `nft list tables` (in process) instead of a save per family; when nft cannot say, it may.
 */
async function nftTablesPresent(): Promise<boolean> {
  if (which('nft') === undefined) return true;
  const r = await nft(['list', 'tables']);
  return r.exitCode !== 0 || /^table ip6? (filter|nat|raw|mangle|security)$/m.test(r.stdout);
}

const BUILTINS: ReadonlySet<string> = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** The backend for one flavour; its programs are named once, found on PATH when they run (tests may name others). */
export function iptablesBackend(flavour: Flavour, p: IptablesPrograms = programsFor(flavour)): FirewallBackend {
  const name = flavour === 'nft' ? 'iptables-nft' : 'iptables-legacy';
  return {
    name,
    label: name,
    testedBy: 'iptables-restore --test',
    installed: () => which(p.restore.ipv4) !== undefined && (flavour === 'nft' || which(`iptables-${flavour}-restore`) !== undefined),
    mayHold: () => (flavour === 'legacy' ? legacyTablesPresent() : nftTablesPresent()),
    snapshot: (plan) => takeSnapshot(p, plan, name),
    stage: (plan, before) => stageAgainst(p, plan, before, name),
    prepare: prepareSets,
    test: (staged) => testStaged(p, staged),
    check: (plan) => checkPlan(p, plan),
    load: (staged) => loadStaged(p, staged),
    rollback: (before, attempted, { loaded }) => rollbackTo(p, before, attempted, loaded),
    readLive: async (families, setNames) => {
      const [sets, ...saved] = await Promise.all([
        setNames.length > 0 && which('ipset') ? setCounts() : Promise.resolve(new Map<string, number>()),
        ...families.map(async (family) => {
          const r = await run(p.save[family], ['-c']);
          return [family, parseSave(r.exitCode === 0 ? r.stdout : '')] as const;
        }),
      ]);
      const first: LiveFamily = saved[0]?.[1] ?? { chains: [], rules: [] };
      // Loaded in any family: IPv6 rules left from an earlier IPV6=drop still filter after a switch to off.
      const loaded = saved.some(([, f]) => isLoaded(f));
      return { families: new Map<Family, LiveFamily>(saved), loaded, boot: isBootRuleset(first), setCounts: sets };
    },
    readWalk: (family) => readWalk(p, family),
    // A built-in's rules live in our own chain (INPUT -> tsfw-input); a user chain (a ban chain) is itself.
    showRule: (rule) => renderRule(rule, BUILTINS.has(rule.chain) ? ownChain(rule.chain) : rule.chain),
    intact: intactProblems,
    remove: ({ families, sets }) => removeOwned(p, families, sets),
    bans: iptablesBanStore(p),
    replaceSets,
    readLimiter: async () => limiterEntries(),
    clearLimiter: async (names, sources) => forgetSources(names, sources),
    fail2banActions: ({ ipv6, source }) => iptablesActions({
      ipset: which('ipset') ?? 'ipset', iptables: which(p.cli.ipv4) ?? p.cli.ipv4, ip6tables: which(p.cli.ipv6) ?? p.cli.ipv6, ipv6, source,
    }),
  };
}

/**
 * explain's read: the family's whole save (every table: a packet meets raw and mangle before filter), the members
 * of the sets its rules look up and the limiter's tables, all at once.
 */
async function readWalk(p: IptablesPrograms, family: Family): Promise<LiveWalk> {
  const r = await run(p.save[family], []);
  const tables = readSaved(r.exitCode === 0 ? r.stdout : '');
  const walk = walkOfSaved(tables);
  const names = [...new Set(walk.rules.map((rule) => rule.match.srcSet).filter((n): n is string => n !== undefined))];
  const members = await Promise.all(names.map(async (n) => [n, await setMembers(n)] as const));
  const sets = new Map<string, readonly SetMember[]>(members.filter((m): m is readonly [string, SetMember[]] => m[1] !== undefined));
  const loaded = tables.some((t) => t.rules.some((rule) => rule.group !== undefined));
  return { family, loaded, ...walk, facts: { sets, recent: recentSources() } };
}
