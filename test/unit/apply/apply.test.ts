/**
 * The apply transaction's program chain, against fake iptables and ipset programs that log each call: the two
 * loads run at once (each waits, bounded, until the other has started, so a sequential apply fails), a failed load
 * restores both families (reading what is loaded now, then putting back what we owned), and rollback destroys only
 * the ban sets the apply created.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { applyPlan } from '../../../src/apply/apply.js';
import { readLastApply } from '../../../src/state/last-apply.js';
import { compile } from '../../../src/compile/plan.js';
import { iptablesBackend } from '../../../src/backend/iptables/index.js';
import type { FirewallBackend } from '../../../src/backend/types.js';
import { useFakeBin } from '../fake-bin.js';
import { config, SEED_HOST } from '../fixtures.js';

const PLAN = compile(config('IPV6=mirror'), SEED_HOST);
/** What both fake save programs print: a ruleset of ours is loaded, so a rollback has something to put back. */
const SAVED = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:tsfw-input - [0:0]\n' +
  '-A INPUT -m comment --comment tsfw:jump -j tsfw-input\n-A tsfw-input -m comment --comment tsfw:loopback -i lo -j ACCEPT\nCOMMIT\n';
const OURS = 'hashsize 4096 maxelem 262144 timeout 0 bucketsize 12 initval 0x1';

const bin = useFakeBin('apply');
let backend: FirewallBackend;
const savedRunDir = process.env.TSFIREWALL_RUN_DIR;

function fake(name: string, body: string): string {
  return bin.install(name, [`echo "${name} $*" >> ${bin.dir}/calls`, body]);
}

/** A restore program: --test and rollbacks (--counters) pass; a load waits for the other family's load to start. */
function restoreProgram(family: string, other: string, failLoad: boolean): string {
  return fake(`restore-${family}`, [
    'cat > /dev/null',
    'case "$*" in *--test*|*--counters*) exit 0;; esac',
    `touch ${bin.dir}/loading-${family}`,
    `i=0; while [ ! -e ${bin.dir}/loading-${other} ]; do i=$((i+1)); [ $i -gt 100 ] && { echo "the ${other} load never ran alongside" >&2; exit 1; }; sleep 0.05; done`,
    failLoad ? 'echo "line 2 failed (injected fault)" >&2; exit 1' : 'exit 0',
  ].join('\n'));
}

/** `ipset list -t` shows `listed` (set names with our settings; undefined: the listing fails). */
function setup(opts: { failLoad?: 'ipv4' | 'ipv6'; listed?: readonly string[] } = {}): void {
  const program = (family: string) => ({ save: fake(`save-${family}`, `printf '${SAVED.replace(/\n/g, '\\n')}'`) });
  const listing = (opts.listed ?? []).map((name) =>
    `Name: ${name}\nType: hash:ip\nHeader: family ${name.startsWith('f2b6') ? 'inet6' : 'inet'} ${OURS}\nNumber of entries: 0\n`).join('\n');
  fake('ipset', [
    'case "$1" in restore) cat > /dev/null;; esac',
    opts.listed === undefined ? '[ "$1" = list ] && { echo "ipset: cannot list (injected)" >&2; exit 1; }' : `[ "$1" = list ] && printf '${listing.replace(/\n/g, '\\n')}'`,
    'exit 0',
  ].join('\n'));
  backend = iptablesBackend('legacy', {
    flavour: 'legacy',
    save: { ipv4: program('ipv4').save, ipv6: program('ipv6').save },
    restore: { ipv4: restoreProgram('ipv4', 'ipv6', opts.failLoad === 'ipv4'), ipv6: restoreProgram('ipv6', 'ipv4', opts.failLoad === 'ipv6') },
    cli: { ipv4: 'false', ipv6: 'false' },
  });
}

/** Journals left in the run directory (the last apply's outcome, beside them, is always written). */
const journals = () => readdirSync(join(bin.dir, 'run')).filter((n) => n.startsWith('journal'));
const calls = () => readFileSync(join(bin.dir, 'calls'), 'utf8').trimEnd().split('\n');
/** The calls in order, each run of calls that may come in any order (one stage) sorted. */
const stages = (...sizes: number[]) => {
  const all = calls();
  let at = 0;
  return sizes.map((n) => all.slice(at, (at += n)).sort());
};

beforeEach(() => {
  mkdirSync(join(bin.dir, 'run'), { mode: 0o700 });
  process.env.TSFIREWALL_RUN_DIR = join(bin.dir, 'run');
});
afterEach(() => {
  if (savedRunDir === undefined) delete process.env.TSFIREWALL_RUN_DIR;
  else process.env.TSFIREWALL_RUN_DIR = savedRunDir;
});

test('the sets already there with our settings: three stages, no ipset restore, both loads at once', async () => {
  setup({ listed: ['f2b-SSH', 'f2b6-SSH'] });
  await applyPlan(PLAN, backend);
  expect(stages(3, 2, 2)).toEqual([
    ['ipset list -t', 'save-ipv4 -c', 'save-ipv6 -c'],
    ['restore-ipv4 -w 5 --noflush --test', 'restore-ipv6 -w 5 --noflush --test'],
    ['restore-ipv4 -w 5 --noflush', 'restore-ipv6 -w 5 --noflush'],
  ]);
  expect(calls()).toHaveLength(7);
  expect(journals()).toEqual([]);
  expect(readLastApply()).toMatchObject({ verb: 'start', backend: 'iptables-legacy', result: 'ok' });
  expect(readLastApply()!.seconds).toBeGreaterThan(0);
});

test('a missing set: one ipset restore -exist between the reads and the tests', async () => {
  setup({ listed: ['f2b-SSH'] });
  await applyPlan(PLAN, backend);
  expect(stages(3, 1, 2, 2)[1]).toEqual(['ipset restore -exist']);
  expect(calls()).toHaveLength(8);
});

test.each(['ipv4', 'ipv6'] as const)('the %s load fails: both families are restored, only the set the apply created is destroyed', async (family) => {
  setup({ failLoad: family, listed: ['f2b-SSH'] });
  await expect(applyPlan(PLAN, backend)).rejects.toThrow(new RegExp(`loading the ${family} ruleset failed: .*injected fault.*; the previous ruleset was restored`));
  // Each family: what we own now is read again, then put back as the snapshot had it.
  const after = calls().slice(8);
  expect(after.slice(0, 4)).toEqual(['save-ipv4 ', 'restore-ipv4 -w 5 --noflush --counters', 'save-ipv6 ', 'restore-ipv6 -w 5 --noflush --counters']);
  expect(after.slice(4)).toEqual(['ipset destroy f2b6-SSH']);
  expect(journals()).toEqual([]);
  expect(readLastApply()?.result).toBe('rolled-back');
});

test('the listing failed and the apply fails: no set is destroyed (none is known to be ours)', async () => {
  setup({ failLoad: 'ipv6' });
  await expect(applyPlan(PLAN, backend)).rejects.toThrow(/loading the ipv6 ruleset failed/);
  expect(calls().filter((c) => c.startsWith('ipset'))).toEqual(['ipset list -t', 'ipset restore -exist']);
  expect(existsSync(join(bin.dir, 'loading-ipv4'))).toBe(true);
});

test('the preflight runs beside the reads; when it refuses, nothing else runs and no journal is written', async () => {
  setup({ listed: ['f2b-SSH', 'f2b6-SSH'] });
  const preflight = async () => {
    // Bounded wait for the snapshot to be under way: a preflight run before the reads would never see it.
    for (let i = 0; i < 100 && !(existsSync(join(bin.dir, 'calls')) && calls().some((c) => c.startsWith('save-ipv4'))); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!calls().some((c) => c.startsWith('save-ipv4'))) throw new Error('the snapshot did not run beside the preflight');
    throw new Error('refusing to lock out this SSH session (test)');
  };
  await expect(applyPlan(PLAN, backend, { preflight })).rejects.toThrow(/refusing to lock out this SSH session \(test\)/);
  expect(calls().sort()).toEqual(['ipset list -t', 'save-ipv4 -c', 'save-ipv6 -c']);
  expect(journals()).toEqual([]);
  expect(readLastApply()?.result).toBe('unchanged');
});
