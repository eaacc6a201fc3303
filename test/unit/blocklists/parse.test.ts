/** The one reading of blocklists: Spamhaus DROP, FireHOL and plain lists; refused lines with their numbers; bounds. */
import { describe, expect, test } from 'vitest';
import { parseBlocklist } from '../../../src/blocklists/parse.js';
import { replaceDocument } from '../../../src/backend/nftables/blocklists.js';
import { swapScript } from '../../../src/backend/iptables/blocklists.js';
import { netGuard } from '../../../src/safety/net-guard.js';
import { parseNetwork } from '../../../src/net/addr.js';
import type { BanGuardFacts } from '../../../src/safety/ban-guard.js';

const SPAMHAUS = '; Spamhaus DROP List 2026/12/03 - (c) 2026 The Spamhaus Project\n; Last-Modified: Thu, 03 Dec 2026\n' +
  '1.10.16.0/20 ; SBL256894\n1.19.0.0/16 ; SBL434604\r\n';
const FIREHOL = '#\n# firehol_level1\n#\n0.0.0.0/8\n1.10.16.0/20\n5.188.10.179\n2001:db8:bad::/48\n';

describe('parseBlocklist', () => {
  test('Spamhaus DROP: the network before the ";" comment, CRLF or not', () => {
    expect(parseBlocklist(SPAMHAUS, 100)).toEqual({ ipv4: ['1.10.16.0/20', '1.19.0.0/16'], ipv6: [], refused: [], overLimit: 0 });
  });

  test('FireHOL: # comments, bare addresses as /32, IPv6 apart', () => {
    const list = parseBlocklist(FIREHOL, 100);
    expect(list.ipv4).toEqual(['0.0.0.0/8', '1.10.16.0/20', '5.188.10.179/32']);
    expect(list.ipv6).toEqual(['2001:db8:bad::/48']);
  });

  test('bad lines are refused with their line number; the rest loads', () => {
    const list = parseBlocklist('10.0.0.0/8\n10.1\n010.0.0.1\n1.2.3.4 5.6.7.8\n0.0.0.0/0\n::/0\nfe80::1%eth0\n192.0.2.0/33\n198.51.100.7\n', 100);
    expect(list.ipv4).toEqual(['10.0.0.0/8', '198.51.100.7/32']);
    expect(list.refused.map((r) => [r.line, r.reason])).toEqual([
      [2, 'not an address or network'], [3, 'not an address or network'], [4, 'one address or network a line (a comment starts with ; or #)'],
      [5, 'a /0 would block every address'], [6, 'a /0 would block every address'], [7, 'not an address or network'], [8, 'not an address or network'],
    ]);
  });

  test('host bits are cleared and duplicates kept once', () => {
    expect(parseBlocklist('192.0.2.77/24\n192.0.2.0/24\n', 100).ipv4).toEqual(['192.0.2.0/24']);
  });

  test('the entry bound leaves the rest out and counts it', () => {
    const text = Array.from({ length: 10 }, (_, i) => `198.51.100.${i}`).join('\n');
    const list = parseBlocklist(text, 4);
    expect(list.ipv4).toHaveLength(4);
    expect(list.overLimit).toBe(6);
  });
});

describe('netGuard: the networks no ban or blocklist may take', () => {
  const facts: BanGuardFacts = {
    sessions: [{ client: '198.51.100.20', clientPort: 50022, server: '192.0.2.10', serverPort: 22 }],
    adminSources: ['203.0.113.99'],
    hostAddresses: [{ iface: 'eth0', address: '192.0.2.10', cidr: '192.0.2.10/24' }, { iface: 'eth0', address: '2001:db8::10', cidr: '2001:db8::10/64' }],
    trusted: [{ net: '203.0.113.0/25', key: 'TRUSTED_NETS' }],
  };
  const ban = netGuard(facts, { trusted: true });
  const list = netGuard(facts, { trusted: false });
  const why = (g: typeof ban, cidr: string) => g(parseNetwork(cidr)!)?.reason;

  test.each([
    ['198.51.100.0/24', 'live SSH session'],
    ['192.0.0.0/16', "this host's own address 192.0.2.10"],
    ['2001:db8::/32', "this host's own address 2001:db8::10"],
    ['127.1.0.0/16', 'loopback'],
    ['203.0.113.0/24', 'recent admin address'],
    ['203.0.113.0/26', 'TRUSTED_NETS'],
  ])('ban %s: refused (%s)', (cidr, reason) => expect(why(ban, cidr)).toContain(reason));

  test('a network beside them all may be banned', () => expect(why(ban, '198.51.101.0/24')).toBeUndefined());
  test('a blocklist network may overlap a trusted net (its accept comes first anyway)', () => expect(why(list, '203.0.113.0/26')).toBeUndefined());
  test('only a remembered admin address is forceable', () => {
    expect(ban(parseNetwork('203.0.113.96/27')!)?.forceable).toBe(true);
    expect(ban(parseNetwork('198.51.100.0/24')!)?.forceable).toBe(false);
  });
});

describe('the atomic replacement, per backend', () => {
  const spec = { name: 'bl-X', family: 'inet', type: 'hash:net', maxelem: 65536 } as const;
  test('nftables: flush and refill in one document', () => {
    expect(replaceDocument([{ spec, entries: ['10.0.0.0/8', '192.0.2.0/24'] }]))
      .toBe('flush set inet tsfirewall bl-X\nadd element inet tsfirewall bl-X { 10.0.0.0/8, 192.0.2.0/24 }\n');
  });
  test('ipset: a filled twin swapped in', () => {
    expect(swapScript([{ spec, entries: ['10.0.0.0/8'] }])).toBe(
      'create bl-X-new hash:net family inet maxelem 65536 hashsize 4096 timeout 0\nflush bl-X-new\nadd bl-X-new 10.0.0.0/8\nswap bl-X-new bl-X\ndestroy bl-X-new\n');
  });
  test('anything but a network is refused before it reaches a document', () => {
    expect(() => replaceDocument([{ spec, entries: ['10.0.0.0/8 }; flush ruleset'] }])).toThrow(/not a network/);
    expect(() => swapScript([{ spec, entries: ['1.2.3.4\ndestroy f2b-SSH'] }])).toThrow(/not a network/);
  });
});
