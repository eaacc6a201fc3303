/**
 * The container tests' readers of a loaded ruleset (test/harness/rulesets.ts) against text the real tools printed:
 * they must say "closed" for our layout and nothing else, or a test reading them would prove nothing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { closesNft, nftBlock } from '../../harness/rulesets.js';

/** `nft list table inet tsfirewall` of the rich ruleset after real traffic (nft 1.0.6). */
const RICH = readFileSync(new URL('../backend/nftables/fixtures/rich-live.nft', import.meta.url), 'utf8');

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

describe('closesNft', () => {
  test('our input chain ending in the counted tsfw:policy drop closes input, beside another table too', () => {
    expect(closesNft(RICH)).toBe(true);
    expect(closesNft(`${IPTABLES_NFT}${RICH}`)).toBe(true);
  });

  test('an accept policy rule, a missing dispatch or a drop in someone else\'s table does not', () => {
    expect(closesNft(RICH.replace('counter packets 1 bytes 60 drop comment "tsfw:policy"', 'counter packets 1 bytes 60 accept comment "tsfw:policy"'))).toBe(false);
    expect(closesNft(RICH.replace('ipv4 : jump input4, ', ''))).toBe(false);
    expect(closesNft(IPTABLES_NFT)).toBe(false);
    expect(closesNft('')).toBe(false);
  });

  test('forward in the rich ruleset is open (its policy rule accepts)', () => {
    expect(closesNft(RICH, 'forward')).toBe(false);
  });
});
