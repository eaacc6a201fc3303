/**
 * intact() on iptables: the live ruleset (iptables-save text, parsed as status parses it) held against the plan
 * that was loaded. Missing entries, emptied chains, missing rules and a foreign rule among ours or before our jump
 * are named; ban chain entries, a foreign rule after our jump, and one before it that can only drop are not.
 */
import { describe, expect, test } from 'vitest';
import { intactProblems } from '../../../../src/backend/iptables/intact.js';
import { parseSave } from '../../../../src/backend/iptables/parse.js';
import { renderRuleset } from '../../../../src/backend/iptables/render.js';
import type { LiveFamily, LiveState } from '../../../../src/backend/types.js';
import { compile } from '../../../../src/compile/plan.js';
import type { Family, Plan } from '../../../../src/model.js';
import { SEED_HOST, config } from '../../fixtures.js';

const BUILTINS: Readonly<Record<string, string>> = {
  filter: ':INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]',
  raw: ':PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]',
  nat: ':PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]',
};

/** What iptables-save prints once the plan's document is loaded where nothing was: the built-ins, then ours. */
function savedAfterLoad(plan: Plan, family: Family): string {
  const ruleset = plan.rulesets.find((r) => r.family === family)!;
  return renderRuleset(ruleset).split('\n')
    .map((l) => (l.startsWith('*') ? `${l}\n${BUILTINS[l.slice(1)]}` : l.replace(/^-I (\S+) \d+ /, '-A $1 ')))
    .join('\n');
}

const liveOf = (texts: Partial<Record<Family, string>>): LiveState => ({
  families: new Map(Object.entries(texts).map(([f, t]) => [f as Family, parseSave(t)] as [Family, LiveFamily])),
  loaded: true, boot: false, setCounts: new Map(),
});

const plan = compile(config('SERVICES=ssh ftp web\nIPV6=mirror'), SEED_HOST);
const v4 = savedAfterLoad(plan, 'ipv4');
const v6 = savedAfterLoad(plan, 'ipv6');
const problems = (ipv4: string, ipv6 = v6) => intactProblems(plan, liveOf({ ipv4, ipv6 }));
const without = (text: string, line: RegExp) => text.split('\n').filter((l) => !line.test(l)).join('\n');
/** Inserts `rule` into `chain` of the table's text at its top, as `iptables -I chain 1` would. */
const insertedAtTop = (text: string, chain: string, rule: string) => {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`-A ${chain} `));
  lines.splice(at, 0, `-A ${chain} ${rule}`);
  return lines.join('\n');
};

describe('intact', () => {
  test('the ruleset as loaded is whole, in both families', () => {
    expect(problems(v4)).toEqual([]);
  });

  test('an outside `iptables -F`: the jump is gone and our chain is emptied', () => {
    expect(problems(without(v4, /^-A (INPUT|tsfw-input) /))).toEqual([
      'IPv4 chain INPUT: our jump into tsfw-input is gone',
      'IPv4 chain tsfw-input: emptied, its 12 rules of ours are gone',
    ]);
  });

  test('`iptables -F; iptables -X`: the chain itself is gone; the raw table and IPv6 untouched are not named', () => {
    expect(problems(without(v4, /^(-A (INPUT|tsfw-input) |:tsfw-input )/))).toEqual([
      'IPv4 chain INPUT: our jump into tsfw-input is gone',
      'IPv4 chain tsfw-input is gone',
    ]);
  });

  test('the raw table\'s helper jump and the IPv6 family are checked too', () => {
    expect(problems(v4, without(v6, /^-A PREROUTING /))).toEqual(['IPv6 raw chain PREROUTING: our jump into tsfw-prerouting is gone']);
    expect(intactProblems(plan, liveOf({ ipv4: v4 }))).toEqual([
      'IPv6 chain INPUT: our jump into tsfw-input is gone',
      'IPv6 chain tsfw-input is gone',
      'IPv6 raw chain PREROUTING: our jump into tsfw-prerouting is gone',
      'IPv6 raw chain tsfw-prerouting is gone',
    ]);
  });

  test('the final DROP gone, one rule of a group gone, a verdict turned: each named', () => {
    expect(problems(without(v4, /tsfw:policy/))).toEqual(['IPv4 chain tsfw-input: the final DROP (tsfw:policy) is gone']);
    expect(problems(without(v4, /--dport 21 .*tsfw:services/))).toEqual(['IPv4 chain tsfw-input: 1 of 3 tsfw:services rules ending in ACCEPT is gone']);
    expect(problems(v4.replace('--comment tsfw:policy -j DROP', '--comment tsfw:policy -j ACCEPT'))).toEqual([
      'IPv4 chain tsfw-input: the final DROP (tsfw:policy) is gone',
      'IPv4 chain tsfw-input: 1 rule marked tsfw:policy ending in ACCEPT that was not loaded',
    ]);
  });

  test('our rules in another order are named', () => {
    const lines = v4.split('\n');
    const policy = lines.findIndex((l) => l.includes('tsfw:policy'));
    const [moved] = lines.splice(policy, 1);
    lines.splice(lines.findIndex((l) => l.startsWith('-A tsfw-input ')), 0, moved!);
    expect(problems(lines.join('\n'))).toEqual(['IPv4 chain tsfw-input: our rules are out of the loaded order']);
  });

  test('a foreign rule inside our chain is named with its text; a flood of them is counted after three', () => {
    expect(problems(insertedAtTop(v4, 'tsfw-input', '-s 198.51.100.20/32 -j ACCEPT')))
      .toEqual(['IPv4 chain tsfw-input: a rule that is not ours: -s 198.51.100.20/32 -j ACCEPT']);
    let flooded = v4;
    for (let i = 1; i <= 5; i++) flooded = insertedAtTop(flooded, 'tsfw-input', `-s 198.51.100.${i}/32 -j ACCEPT`);
    expect(problems(flooded)).toHaveLength(4);
    expect(problems(flooded)[3]).toBe('IPv4 chain tsfw-input: 2 rules more that are not ours');
  });

  test('before our jump: a foreign ACCEPT, RETURN, goto or jump to a chain that accepts is named', () => {
    for (const rule of ['-s 198.51.100.20/32 -j ACCEPT', '-p tcp -j RETURN', '-g DOCKER-USER']) {
      expect(problems(insertedAtTop(v4, 'INPUT', rule))).toEqual([`IPv4 chain INPUT: a rule that is not ours comes before our jump into tsfw-input: ${rule}`]);
    }
    const withChain = (body: string) => insertedAtTop(v4.replace(':tsfw-input - [0:0]', ':tsfw-input - [0:0]\n:other - [0:0]\n' + body), 'INPUT', '-j other');
    expect(problems(withChain('-A other -s 203.0.113.0/24 -j ACCEPT\n-A other -j RETURN'))).toEqual([
      'IPv4 chain INPUT: a rule that is not ours comes before our jump into tsfw-input: -j other',
    ]);
  });

  test('before our jump, what can only drop, log or return from its own chain is no problem (fail2ban\'s stock chain)', () => {
    const f2b = v4.replace(':tsfw-input - [0:0]', [':tsfw-input - [0:0]', ':f2b-sshd - [0:0]',
      '-A f2b-sshd -s 203.0.113.9/32 -j REJECT --reject-with icmp-port-unreachable', '-A f2b-sshd -j RETURN'].join('\n'));
    expect(problems(insertedAtTop(f2b, 'INPUT', '-p tcp -m multiport --dports 22 -j f2b-sshd'))).toEqual([]);
    expect(problems(insertedAtTop(v4, 'INPUT', '-s 198.51.100.20/32 -j DROP'))).toEqual([]);
    expect(problems(insertedAtTop(v4, 'INPUT', '-m comment --comment "says -j ACCEPT" -j LOG --log-prefix "x -j ACCEPT "'))).toEqual([]);
  });

  test('a foreign ACCEPT after our jump changes nothing: our chain has already decided', () => {
    expect(problems(v4.replace(/(-A INPUT .*tsfw:jump.*)/, '$1\n-A INPUT -s 198.51.100.20/32 -j ACCEPT'))).toEqual([]);
  });

  test('ban chain entries vary by design (chain mode): no problem; the ban chain gone is one', () => {
    const chainPlan = compile(config('SERVICES=ssh web', 'chain'), SEED_HOST);
    const saved = savedAfterLoad(chainPlan, 'ipv4');
    const banned = saved.replace(':fail2ban-SSH - [0:0]', ':fail2ban-SSH - [0:0]\n-A fail2ban-SSH -s 198.51.100.7/32 -j DROP');
    expect(intactProblems(chainPlan, liveOf({ ipv4: banned, ipv6: savedAfterLoad(chainPlan, 'ipv6') }))).toEqual([]);
    const gone = without(saved, /fail2ban-SSH/);
    expect(intactProblems(chainPlan, liveOf({ ipv4: gone, ipv6: savedAfterLoad(chainPlan, 'ipv6') }))).toEqual([
      'IPv4 chain tsfw-input: the tsfw:bans rule ending in fail2ban-SSH is gone',
      'IPv4 chain fail2ban-SSH is gone',
    ]);
  });

  test('the boot-time ruleset is judged against the boot-time plan', () => {
    const boot = compile(config('SERVICES=ssh web'), { boot: true, iface: 'eth0' });
    expect(intactProblems(boot, liveOf({ ipv4: savedAfterLoad(boot, 'ipv4'), ipv6: savedAfterLoad(boot, 'ipv6') }))).toEqual([]);
  });
});
