/**
 * What the iptables backends own in a table and the --noflush document between two states of it: other tools'
 * chains (Docker's, a foreign fail2ban's) are never named, the ban chains we jump to are ours, and a table still
 * in the old layout (tsfirewall owned all of it) has its policies opened as it is taken over.
 */
import { describe, expect, test } from 'vitest';
import { ownedIn, ownedOf, setsNamed, transition } from '../../../../src/backend/iptables/ownership.js';
import { readSaved } from '../../../../src/backend/iptables/parse.js';
import { commandsOf } from '../../../../src/backend/iptables/remove.js';
import { ownedRuleset } from '../../../../src/backend/iptables/render.js';
import { compile } from '../../../../src/compile/plan.js';
import { config, SEED_HOST } from '../../fixtures.js';

const DOCKER = [
  '*filter', ':INPUT ACCEPT [10:1000]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':DOCKER - [0:0]', ':DOCKER-USER - [0:0]',
  ':f2b-sshd - [0:0]', ':fail2ban-SSH - [0:0]', ':tsfw-input - [0:0]',
  '[7:700] -A INPUT -m comment --comment "tsfw:jump" -j tsfw-input',
  '-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd',
  '-A FORWARD -j DOCKER-USER', '-A FORWARD -o docker0 -j DOCKER', '-A DOCKER-USER -j RETURN',
  '-A f2b-sshd -s 203.0.113.9/32 -j REJECT --reject-with icmp-port-unreachable', '-A f2b-sshd -j RETURN',
  '-A fail2ban-SSH -s 198.51.100.7/32 -j DROP',
  '-A tsfw-input -i lo -m comment --comment "tsfw:loopback" -j ACCEPT',
  '-A tsfw-input -p tcp -m tcp --dport 22 -m comment --comment "tsfw:bans" -j fail2ban-SSH',
  '-A tsfw-input -p tcp -m tcp --dport 22 -m set --match-set f2b-WEB src -m comment --comment "tsfw:bans" -j DROP',
  '[3:300] -A tsfw-input -m comment --comment "tsfw:policy" -j DROP',
  'COMMIT', '',
].join('\n');

const OLD_LAYOUT = [
  '*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':fail2ban-SSH - [0:0]',
  '-A INPUT -i lo -m comment --comment "tsfw:loopback" -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "tsfw:bans" -j fail2ban-SSH',
  '-A fail2ban-SSH -s 198.51.100.7/32 -j DROP', 'COMMIT', '',
].join('\n');

describe('ownedOf', () => {
  test('our chains, the ban chain we jump to and our jump; not Docker\'s chains nor a foreign fail2ban chain', () => {
    const { owned, oldLayout } = ownedOf(readSaved(DOCKER)[0]!);
    expect(oldLayout).toBe(false);
    expect(owned.chains.map((c) => c.name).sort()).toEqual(['fail2ban-SSH', 'tsfw-input']);
    expect(owned.entries).toEqual([{ chain: 'INPUT', line: '-A INPUT -m comment --comment "tsfw:jump" -j tsfw-input', position: 1 }]);
    expect(owned.policies.size).toBe(0);
  });

  test('the old layout: every marked rule in the built-ins, and their policies', () => {
    const { owned, oldLayout } = ownedOf(readSaved(OLD_LAYOUT)[0]!);
    expect(oldLayout).toBe(true);
    expect(owned.entries).toHaveLength(2);
    expect(owned.chains.map((c) => c.name)).toEqual(['fail2ban-SSH']);
    expect([...owned.policies]).toEqual([['INPUT', 'DROP'], ['FORWARD', 'ACCEPT'], ['OUTPUT', 'ACCEPT']]);
  });
});

describe('transition', () => {
  test('to nothing (stop): only our jump, chains and ban chain go; no line names Docker\'s or the foreign chain', () => {
    const text = transition(readSaved(DOCKER), new Map());
    expect(text).toBe([
      '*filter',
      '-D INPUT -m comment --comment "tsfw:jump" -j tsfw-input',
      '-F fail2ban-SSH', '-F tsfw-input', '-X fail2ban-SSH', '-X tsfw-input',
      'COMMIT', '',
    ].join('\n'));
    expect(text).not.toMatch(/DOCKER|f2b-sshd|FORWARD|:INPUT/);
  });

  test('a reload: our chains declared (emptied) and refilled, the jump put back at the top, the ban entries carried', () => {
    const plan = compile(config('SERVICES=ssh', 'chain'), SEED_HOST);
    const carried = new Map([['fail2ban-SSH', ['-A fail2ban-SSH -s 198.51.100.7/32 -j DROP']]]);
    const text = transition(readSaved(DOCKER), ownedRuleset(plan.rulesets[0]!, carried));
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '*filter', ':tsfw-input - [0:0]', ':fail2ban-SSH - [0:0]', '-D INPUT -m comment --comment "tsfw:jump" -j tsfw-input',
      '-I INPUT 1 -m comment --comment tsfw:jump -j tsfw-input',
    ]);
    expect(lines).toContain('-A fail2ban-SSH -s 198.51.100.7/32 -j DROP');
    expect(lines.filter((l) => l.startsWith('-A tsfw-input ')).at(-1)).toBe('-A tsfw-input -m comment --comment tsfw:policy -j DROP');
    expect(text).not.toMatch(/DOCKER|f2b-sshd|FORWARD|-X /);
  });

  test('moving the old layout over: its policies opened and its rules deleted, in the same transaction as ours', () => {
    const plan = compile(config('SERVICES=ssh', 'chain'), SEED_HOST);
    const text = transition(readSaved(OLD_LAYOUT), ownedRuleset(plan.rulesets[0]!));
    expect(text).toMatch(/^:INPUT ACCEPT \[0:0\]\n:FORWARD ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]$/m);
    // By number, last first: an xt_recent rule cannot be deleted by its spec.
    expect(text).toContain('-D INPUT 2\n-D INPUT 1\n');
    expect(text).toContain('-I INPUT 1 -m comment --comment tsfw:jump -j tsfw-input');
  });

  test('a rollback to the old layout sets its policies back and reinserts its rules in order, counters kept', () => {
    const plan = compile(config('SERVICES=ssh', 'chain'), SEED_HOST);
    const loaded = transition([], ownedRuleset(plan.rulesets[0]!)).replace(/^-I (\S+) \d+ /gm, '-A $1 ');
    const now = readSaved(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${loaded.split('\n').slice(1).join('\n')}`);
    const text = transition(now, ownedIn(readSaved(OLD_LAYOUT), true));
    expect(text).toMatch(/^:INPUT DROP \[0:0\]$/m);
    expect(text).toContain('[0:0] -I INPUT 1 -i lo -m comment --comment "tsfw:loopback" -j ACCEPT');
    expect(text).toContain('[0:0] -I INPUT 2 -p tcp -m tcp --dport 22 -m comment --comment "tsfw:bans" -j fail2ban-SSH');
    expect(text).toContain('-X tsfw-input');
  });

  test('nothing of ours before or after: no document at all', () => {
    expect(transition(readSaved('*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n'), new Map())).toBe('');
  });
});

test('the ban sets our rules name, and only those', () => {
  expect(setsNamed(readSaved(DOCKER))).toEqual(['f2b-WEB']);
});

test('commandsOf: the document as iptables commands, table and unquoted marker included', () => {
  const text = transition(readSaved(OLD_LAYOUT), new Map()) + transition(readSaved(DOCKER), new Map());
  expect(commandsOf(text)).toEqual([
    ['-t', 'filter', '-P', 'INPUT', 'ACCEPT'], ['-t', 'filter', '-P', 'FORWARD', 'ACCEPT'], ['-t', 'filter', '-P', 'OUTPUT', 'ACCEPT'],
    ['-t', 'filter', '-D', 'INPUT', '2'], ['-t', 'filter', '-D', 'INPUT', '1'],
    ['-t', 'filter', '-F', 'fail2ban-SSH'], ['-t', 'filter', '-X', 'fail2ban-SSH'],
    ['-t', 'filter', '-D', 'INPUT', '-m', 'comment', '--comment', 'tsfw:jump', '-j', 'tsfw-input'],
    ['-t', 'filter', '-F', 'fail2ban-SSH'], ['-t', 'filter', '-F', 'tsfw-input'], ['-t', 'filter', '-X', 'fail2ban-SSH'], ['-t', 'filter', '-X', 'tsfw-input'],
  ]);
});
