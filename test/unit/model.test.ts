/** The rule marker: what each backend writes into the kernel and reads back, the one grammar both share. */
import { describe, expect, test } from 'vitest';
import { parseSave } from '../../src/backend/iptables/parse.js';
import { markerOf, parseMarker, type Rule } from '../../src/model.js';

const rule = (over: Partial<Rule>): Rule => ({ chain: 'INPUT', group: 'services', match: { proto: 'tcp', dports: ['22'] }, target: { kind: 'ACCEPT' }, ...over });

describe('markerOf / parseMarker', () => {
  const limited = rule({ service: 'ssh', match: { proto: 'tcp', dports: ['22'], rateLimit: { name: 'SSH', hits: 3, seconds: 180 } } });
  test.each([
    [rule({ group: 'loopback' }), undefined, 'tsfw:loopback', { group: 'loopback' }],
    [rule({ service: 'ssh' }), undefined, 'tsfw:services:ssh', { group: 'services', service: 'ssh' }],
    // A hit-rate limited accept: the backends' drop lines for it say so, its own line is the service's.
    [limited, 'limit', 'tsfw:services:ssh:limit', { group: 'services', service: 'ssh', role: 'limit' }],
    [limited, undefined, 'tsfw:services:ssh', { group: 'services', service: 'ssh' }],
    [rule({ service: 'ssh', target: { kind: 'LOG', prefix: 'SSH' } }), undefined, 'tsfw:services:ssh:log', { group: 'services', service: 'ssh', role: 'log' }],
    [rule({ group: 'bans', service: 'smtp2', target: { kind: 'DROP' } }), undefined, 'tsfw:bans:smtp2', { group: 'bans', service: 'smtp2' }],
    [rule({ group: 'antispoof', target: { kind: 'DROP' } }), 'limit', 'tsfw:antispoof', { group: 'antispoof' }],
  ] as const)('%#: %s', (r, role, text, parsed) => {
    expect(markerOf(r, role)).toBe(text);
    expect(parseMarker(text)).toEqual(parsed);
  });

  test('a marker written before services were named reads as its group; other comments are not ours', () => {
    expect(parseMarker('tsfw:services')).toEqual({ group: 'services' });
    expect(parseMarker('docker')).toBeUndefined();
    expect(parseMarker('tsfw:services:ssh:frob')).toBeUndefined();
  });

  test("iptables-save's marker, quoted or not, gives the rule its group, service and role", () => {
    const live = parseSave([
      '*filter', ':tsfw-input - [0:0]',
      '[4:240] -A tsfw-input -p tcp -m tcp --dport 22 -m recent --update --seconds 180 --hitcount 3 --name SSH --mask 255.255.255.255 --rsource -m comment --comment tsfw:services:ssh:limit -j DROP',
      '[7:420] -A tsfw-input -p tcp -m tcp --dport 22 -m comment --comment "tsfw:services:ssh" -j ACCEPT',
      '[1:60] -A tsfw-input -m comment --comment tsfw:policy -j DROP',
      'COMMIT', '',
    ].join('\n'));
    expect(live.rules.map((r) => [r.group, r.service, r.role, r.packets])).toEqual([
      ['services', 'ssh', 'limit', 4], ['services', 'ssh', undefined, 7], ['policy', undefined, undefined, 1],
    ]);
    expect(live.rules[1]!.rule).toBe('-p tcp -m tcp --dport 22 -j ACCEPT');
  });
});
