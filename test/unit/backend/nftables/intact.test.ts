/**
 * intact() on nftables: `nft -j list table inet tsfirewall` as captured from a real nft (fixtures/README.md), parsed
 * as status parses it, held against the plan that was loaded; then the same listing with what an outside hand
 * would do to it: a family chain flushed, the dispatch deleted, the final drop deleted, a chain added.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { intactProblems } from '../../../../src/backend/nftables/intact.js';
import { parseTable } from '../../../../src/backend/nftables/parse.js';
import type { Plan } from '../../../../src/model.js';
import { foldRecentPairs } from '../../../../src/state/limiter-record.js';
import { CASES } from './cases.js';

type Listing = { nftables: Record<string, Record<string, unknown>>[] };
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Listing;
/**
 * The plan rich-live.json was loaded from (fixtures/README.md): the rich case as it compiled when captured, read as
 * status reads a record (its limiter was then xt_recent's two rules, state/limiter-record.ts).
 */
const rich = JSON.parse(foldRecentPairs(readFileSync(new URL('./fixtures/rich-live.plan.json', import.meta.url), 'utf8'))) as Pick<Plan, 'rulesets'>;
const problems = (listing: Listing | undefined, plan = rich) =>
  intactProblems(plan, parseTable(listing === undefined ? undefined : JSON.stringify(listing)).live);
/** The listing without the objects `drop` picks. */
const without = (listing: Listing, drop: (o: Record<string, Record<string, unknown>>) => boolean): Listing =>
  ({ nftables: listing.nftables.filter((o) => !drop(o)) });
const ruleIn = (chain: string, test: (r: Record<string, unknown>) => boolean = () => true) =>
  (o: Record<string, Record<string, unknown>>) => o.rule !== undefined && o.rule.chain === chain && test(o.rule);

describe('intact on nftables', () => {
  test('the captured table is whole but for the one foreign rule it was captured with', () => {
    expect(problems(fixture('rich-live.json'))).toEqual(['chain output4: a rule that is not ours: tcp dport 25 reject']);
  });

  test('the boot-time table against the boot-time plan: whole (the empty marker chain is there)', () => {
    expect(problems(fixture('boot.json'), CASES.boot!())).toEqual([]);
  });

  test('`nft flush chain inet tsfirewall input4`: emptied', () => {
    expect(problems(without(fixture('rich-live.json'), ruleIn('input4')))).toEqual([
      'chain input4: emptied, its 20 rules of ours are gone',
      'chain output4: a rule that is not ours: tcp dport 25 reject',
    ]);
  });

  test('the dispatch rule deleted: named with what it was', () => {
    expect(problems(without(fixture('rich-live.json'), ruleIn('input'))).slice(0, 1))
      .toEqual(['chain input: the dispatch (meta nfproto vmap { ipv4 : jump input4, ipv6 : jump input6 }) is gone']);
  });

  test('the final drop deleted, and a limiter rule deleted: named by group and verdict', () => {
    const isPolicy = (r: Record<string, unknown>) => r.comment === 'tsfw:policy';
    expect(problems(without(fixture('rich-live.json'), ruleIn('input6', isPolicy))))
      .toContain('chain input6: the final drop (tsfw:policy) is gone');
    const limiter = (r: Record<string, unknown>) => JSON.stringify(r.expr).includes('"op":"update"');
    expect(problems(without(fixture('rich-live.json'), ruleIn('input4', limiter))))
      .toContain('chain input4: 1 of 2 tsfw:services rules ending in drop is gone');
  });

  test('a chain that was not loaded, a base chain of someone else\'s in our table, a rule in a base chain: named', () => {
    const listing = fixture('rich-live.json');
    listing.nftables.push(
      { chain: { family: 'inet', table: 'tsfirewall', name: 'sneak', handle: 900, type: 'filter', hook: 'input', prio: -10, policy: 'accept' } },
      { rule: { family: 'inet', table: 'tsfirewall', chain: 'input', handle: 901, expr: [{ accept: null }] } },
    );
    expect(problems(listing)).toEqual([
      'chain input: a rule that is not ours: accept',
      'chain output4: a rule that is not ours: tcp dport 25 reject',
      'chain sneak in table inet tsfirewall is not ours (a base chain: it filters on its own)',
    ]);
  });

  test('ban set elements vary by design: an empty listing of sets is no problem', () => {
    const noElements: Listing = { nftables: fixture('rich-live.json').nftables.map((o) => (o.set ? { set: { ...o.set, elem: [] } } : o)) };
    expect(problems(noElements)).toEqual(['chain output4: a rule that is not ours: tcp dport 25 reject']);
  });

  test('no table at all: that alone is said', () => {
    expect(problems(undefined)).toEqual(['table inet tsfirewall is gone']);
  });
});
