/**
 * The integration tests' readers of nft's listing (test/harness/rulesets.ts), against a listing captured from a real
 * nft 1.0.6 (the nftables backend's rich-live fixture): blocks and multi-line element lists, one family's view,
 * element lists in a stable order, and "closes" read the way the backend lays its table out.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { nftBlock, nftCloses, nftFamilyView, nftTableBlocks, sortedNftListing } from '../../harness/rulesets.js';

const RICH = readFileSync(new URL('../backend/nftables/fixtures/rich-live.nft', import.meta.url), 'utf8');

describe('nftTableBlocks', () => {
  test('every set, helper and chain of our table, an element list spanning lines as one line', () => {
    const blocks = nftTableBlocks(RICH)!;
    expect(blocks.map((b) => `${b.kind} ${b.name}`)).toEqual([
      'ct helper ftp-tcp', 'set f2b-SSH', 'set rl-SSH', 'set rlheld-SSH', 'set f2b6-SSH', 'set rl6-SSH', 'set rlheld6-SSH',
      'chain input', 'chain input4', 'chain input6', 'chain forward', 'chain forward4', 'chain forward6', 'chain output',
      'chain output4', 'chain output6', 'chain srcnat', 'chain srcnat4', 'chain helpers', 'chain helpers4', 'chain helpers6',
    ]);
    expect(blocks[1]!.lines).toContain(
      'elements = { 198.51.100.7 timeout 10m expires 9m58s968ms, 198.51.100.8, 203.0.113.5 timeout 1h expires 59m58s968ms }');
  });

  test('no table of ours: undefined; another table is not ours', () => {
    expect(nftTableBlocks('')).toBeUndefined();
    expect(nftTableBlocks('table ip libvirt_network {\n\tchain forward {\n\t}\n}\n')).toBeUndefined();
  });
});

describe('nftFamilyView', () => {
  test("one family's chains and sets, the base chains and helpers in both", () => {
    const v4 = nftFamilyView(RICH, 'ipv4');
    const v6 = nftFamilyView(RICH, 'ipv6');
    for (const both of ['\tchain input {', '\tct helper ftp-tcp {']) {
      expect(v4).toContain(both);
      expect(v6).toContain(both);
    }
    expect(v4).toMatch(/^\tchain input4 \{$/m);
    expect(v4).toMatch(/^\tset rl-SSH \{$/m);
    expect(v4).not.toMatch(/chain input6|set f2b6-SSH|set rl6-SSH/);
    expect(v6).toMatch(/^\tchain input6 \{$/m);
    expect(v6).not.toMatch(/chain input4|chain srcnat4|set f2b-SSH/);
    expect(nftFamilyView('', 'ipv4')).toBe('');
  });

  test('element lists are sorted, so a re-created set compares equal', () => {
    const shuffled = RICH.replace('elements = { 198.51.100.7 timeout 10m expires 9m58s968ms, 198.51.100.8,\n\t\t\t     203.0.113.5',
      'elements = { 203.0.113.5 timeout 1h expires 59m58s968ms, 198.51.100.8,\n\t\t\t     198.51.100.7 timeout 10m expires 9m58s968ms, 203.0.113.5');
    const dropDup = (t: string) => t.replace(', 203.0.113.5 timeout 1h expires 59m58s968ms }', ' }');
    expect(dropDup(nftFamilyView(shuffled, 'ipv4'))).toBe(nftFamilyView(RICH, 'ipv4'));
    expect(dropDup(sortedNftListing(shuffled))).toBe(sortedNftListing(RICH));
  });
});

describe('nftCloses', () => {
  test('input is closed for both families, forward and output (accept) are not; a family view reads the same', () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      expect(nftCloses(RICH, 'INPUT', family)).toBe(true);
      expect(nftCloses(nftFamilyView(RICH, family), 'INPUT', family)).toBe(true);
      expect(nftCloses(RICH, 'FORWARD', family)).toBe(false);
      expect(nftCloses(RICH, 'OUTPUT', family)).toBe(false);
    }
    expect(nftCloses(RICH.replace(/(chain output6 \{\n\t\tcounter packets \d+ bytes \d+) accept/, '$1 drop'), 'OUTPUT', 'ipv6')).toBe(true);
  });

  test('a family the base chain does not dispatch, a missing policy rule, a chain of another hook: not closed', () => {
    expect(nftCloses(RICH.replace('ipv4 : jump input4, ', ''), 'INPUT', 'ipv4')).toBe(false);
    expect(nftCloses(RICH.replace(/\t\tcounter packets \d+ bytes \d+ drop comment "tsfw:policy"\n(\t\}\n\n\tchain input6)/, '$1'), 'INPUT', 'ipv4')).toBe(false);
    expect(nftCloses(RICH.replace('type filter hook input priority filter; policy accept;', 'type filter hook input priority filter; policy drop;'), 'INPUT')).toBe(false);
    expect(nftCloses('', 'INPUT')).toBe(false);
  });
});

/** iptables-nft's own table as `nft list ruleset` prints it beside ours: its INPUT chain is no business of ours. */
const IPTABLES_NFT = `table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy drop;
		counter packets 0 bytes 0 drop
	}
}
`;

describe('nftBlock', () => {
  test('cuts one block at its own closing brace, nested blocks included', () => {
    const input4 = nftBlock(RICH, 'chain input4')!;
    expect(input4.split('\n')[0]).toBe('\tchain input4 {');
    expect(input4.split('\n').at(-1)).toBe('\t}');
    expect(input4).toContain('drop comment "tsfw:policy"');
    expect(input4).not.toContain('chain input6');
    expect(nftBlock(RICH, 'table inet tsfirewall')!.split('\n').at(-1)).toBe('}');
    expect(nftBlock(RICH, 'chain no-such')).toBeUndefined();
  });
});

describe('nftCloses beside other tables', () => {
  test('our input chain ending in the counted tsfw:policy drop closes input, beside another table too', () => {
    expect(nftCloses(RICH)).toBe(true);
    expect(nftCloses(`${IPTABLES_NFT}${RICH}`)).toBe(true);
  });

  test('an accept policy rule, a missing dispatch or a drop in someone else\'s table does not', () => {
    expect(nftCloses(RICH.replace('counter packets 1 bytes 60 drop comment "tsfw:policy"', 'counter packets 1 bytes 60 accept comment "tsfw:policy"'))).toBe(false);
    expect(nftCloses(RICH.replace('ipv4 : jump input4, ', ''))).toBe(false);
    expect(nftCloses(IPTABLES_NFT)).toBe(false);
    expect(nftCloses('')).toBe(false);
  });

  test('forward in the rich ruleset is open (its policy rule accepts)', () => {
    expect(nftCloses(RICH, 'FORWARD')).toBe(false);
  });
});
