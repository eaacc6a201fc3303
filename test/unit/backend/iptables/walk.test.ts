/**
 * explain's reading of iptables-save (walk.ts) and of the limiter's clock (limiter.ts), against real listings
 * (fixtures/README.md says how each was captured), and the walk on them end to end.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { kernelClock, parseRecent, recentSources } from '../../../../src/backend/iptables/limiter.js';
import { parseSetMembers } from '../../../../src/backend/iptables/bans.js';
import { readSaved } from '../../../../src/backend/iptables/parse.js';
import { readRule, walkOfSaved, words } from '../../../../src/backend/iptables/walk.js';
import { evaluate } from '../../../../src/safety/evaluate.js';
import type { Probe } from '../../../../src/safety/packet-match.js';

const here = new URL('./fixtures/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, here), 'utf8');
const chains = new Set(['tsfw-input', 'fail2ban-SSH']);

describe('a saved rule back in the model\'s terms', () => {
  test('words keep a quoted string whole', () => {
    expect(words('-A tsfw-input -m limit --limit 3/min -j LOG --log-prefix "tsfw drop: "')).toEqual(
      ['-A', 'tsfw-input', '-m', 'limit', '--limit', '3/min', '-j', 'LOG', '--log-prefix', 'tsfw drop: ']);
  });

  test.each([
    ['-A tsfw-input -i lo -m comment --comment "tsfw:loopback" -j ACCEPT', { inIface: 'lo' }, { kind: 'ACCEPT' }],
    ['-A tsfw-input ! -d 192.0.2.10/32 -m comment --comment "tsfw:unicast" -j DROP', { dst: { cidr: '192.0.2.10/32', negate: true } }, { kind: 'DROP' }],
    ['-A tsfw-input -p tcp -m multiport --dports 80,443,1000:2000 -j ACCEPT', { proto: 'tcp', dports: ['80', '443', '1000:2000'] }, { kind: 'ACCEPT' }],
    ['-A tsfw-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', { ctstate: ['RELATED', 'ESTABLISHED'] }, { kind: 'ACCEPT' }],
    ['-A tsfw-input -p tcp -m tcp --dport 22 -m set --match-set f2b-SSH src -j DROP', { proto: 'tcp', dports: ['22'], srcSet: 'f2b-SSH' }, { kind: 'DROP' }],
    ['-A tsfw-input -p tcp -m tcp --dport 22 -m recent --update --seconds 180 --hitcount 3 --name SSH --mask 255.255.255.255 --rsource -j DROP',
      { proto: 'tcp', dports: ['22'], recent: { op: 'update', name: 'SSH', seconds: 180, hitcount: 3 } }, { kind: 'DROP' }],
    ['-A tsfw-input -p tcp -m tcp --dport 22 -j fail2ban-SSH', { proto: 'tcp', dports: ['22'] }, { kind: 'jump', chain: 'fail2ban-SSH' }],
    ['-A INPUT -p tcp -m tcp --dport 7 -j REJECT --reject-with icmp-port-unreachable', { proto: 'tcp', dports: ['7'] }, { kind: 'REJECT' }],
    ['-A tsfw-input -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "tsfw drop: "', { limit: { rate: '3/min', burst: 10 } }, { kind: 'LOG', prefix: 'tsfw drop: ' }],
    ['-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp', { proto: 'tcp', dports: ['21'] }, { kind: 'CONTINUE' }],
    ['-A INPUT -s 10.0.0.0/8 -g fail2ban-SSH', { src: { cidr: '10.0.0.0/8' } }, { kind: 'goto', chain: 'fail2ban-SSH' }],
    ['-A INPUT -p tcp', { proto: 'tcp' }, { kind: 'CONTINUE' }],
  ])('%s', (line, match, target) => {
    expect(readRule(line, chains, 'filter')).toEqual({ match, target });
  });

  test('what it does not know is kept unread, negations of matches it knows included; unknown targets too', () => {
    expect(readRule('-A INPUT -m addrtype --dst-type LOCAL ! -i eth0 -p tcp -m tcp ! --dport 22 -j ACCEPT', chains, 'filter')).toEqual({
      match: { proto: 'tcp', unread: ['-m addrtype --dst-type LOCAL', '! -i eth0', '! -m tcp --dport 22'] },
      target: { kind: 'ACCEPT' },
    });
    expect(readRule('-A INPUT -j NFQUEUE --queue-num 1', chains, 'filter').target).toEqual({ kind: 'unread', text: '-j NFQUEUE --queue-num 1' });
    expect(readRule('-A INPUT -j MARK --set-mark 1', chains, 'filter').target).toEqual({ kind: 'CONTINUE' });
  });
});

describe('a live save, walked', () => {
  const walk = walkOfSaved(readSaved(fixture('legacy-chain.ipv4.save')));
  const sets = new Map([['f2b-SSH', parseSetMembers(fixture('ipset-f2b-SSH.txt'))]]);
  const clock = kernelClock(fixture('timer_list.txt'))!;
  const recent = new Map([['SSH', parseRecent(fixture('xt_recent.SSH')).map((e) => ({ src: e.src, ages: e.hits.map((h) => (clock.jiffies - h) / clock.hz) }))]]);
  const probe = (src: string, dport: number, state: Probe['state'] = 'NEW'): Probe => ({ src, dst: '192.0.2.10', proto: 'tcp', dport, state });
  const judge = (p: Probe) => evaluate(walk, walk.hooks.input, 'input', p, { facts: { sets, recent } });

  test('the hooks run raw before filter; chains of other tables carry their table', () => {
    expect(walk.hooks).toEqual({ input: ['raw PREROUTING', 'INPUT'], forward: ['raw PREROUTING', 'FORWARD'], output: ['raw OUTPUT', 'OUTPUT'] });
    expect(walk.rules.find((r) => r.chain === 'raw tsfw-prerouting')?.target).toEqual({ kind: 'CONTINUE' });
  });

  test('the kernel clock: HZ from jiffies and the time since boot; too near the 300 s wrap it cannot be told', () => {
    expect(clock.hz).toBe(250);
    expect(kernelClock('now at 301000000000 nsecs\njiffies: 4294967546\n')).toBeUndefined();
    expect(kernelClock('no such lines')).toBeUndefined();
    expect(recent.get('SSH')![0]!.ages!.every((a) => a > 0 && a < 5)).toBe(true);
  });

  test('xt_recent\'s "oldest_pkt: INDEX STAMPS" line gives every stamp', () => {
    expect(parseRecent(fixture('xt_recent.SSH'))[0]).toMatchObject({ src: '198.51.100.30', hits: [4295269975, 4295269977, 4295269978, 4295269984] });
    expect(recentSources('/nonexistent').size).toBe(0);
  });

  test('a chain-mode ban is the DROP in the jail\'s chain; the foreign REJECT before our jump decides first', () => {
    expect(judge(probe('198.51.100.66', 22))).toMatchObject({ action: 'DROP', chain: 'fail2ban-SSH', rule: { text: '-A fail2ban-SSH -s 198.51.100.66/32 -j DROP' } });
    expect(judge(probe('198.51.100.66', 7))).toMatchObject({ action: 'REJECT', chain: 'INPUT' });
    expect(judge(probe('198.51.100.66', 80))).toMatchObject({ action: 'ACCEPT', rule: { group: 'services' } });
  });

  test('the limiter: four attempts in the last 180 s drop the next; another source gets in; a friend passes before', () => {
    expect(judge(probe('198.51.100.30', 22))).toMatchObject({ action: 'DROP', rule: { group: 'services', match: { recent: { op: 'update' } } }, certain: true });
    expect(judge(probe('198.51.100.31', 22))).toMatchObject({ action: 'ACCEPT', rule: { match: { recent: { op: 'set' } } } });
    expect(judge(probe('203.0.113.5', 23))).toMatchObject({ action: 'ACCEPT', rule: { group: 'friends' } });
    expect(judge(probe('198.51.100.30', 22, 'ESTABLISHED'))).toMatchObject({ action: 'ACCEPT', rule: { group: 'replies' } });
  });

  test('ping is accepted by its rule (iptables-save prints type 8); anything else falls to our final DROP', () => {
    expect(judge({ src: '198.51.100.20', dst: '192.0.2.10', proto: 'icmp', state: 'NEW' })).toMatchObject({ action: 'ACCEPT', rule: { group: 'icmp' } });
    const v = judge({ src: '198.51.100.20', dst: '192.0.2.10', proto: 'udp', dport: 53, state: 'NEW' });
    expect(v).toMatchObject({ action: 'DROP', rule: { group: 'policy' }, chain: 'tsfw-input' });
    expect(v.path.some((s) => s.rule?.group === 'dropped' && s.outcome === 'maybe')).toBe(true);
    expect(v.certain).toBe(true);
  });

  test('an ipset-mode save: the ban is a set lookup with its time left', () => {
    const ipset = walkOfSaved(readSaved(fixture('nft-ipset.ipv4.save')));
    const v = evaluate(ipset, ipset.hooks.input, 'input', probe('198.51.100.66', 22), { facts: { sets, recent } });
    expect(v).toMatchObject({ action: 'DROP', rule: { group: 'bans', match: { srcSet: 'f2b-SSH' } } });
    expect(v.path.at(-1)?.notes).toEqual(['198.51.100.66 is in set f2b-SSH, 9m59s left']);
  });
});
