/**
 * Forgetting the hit-rate limiter's sources on nftables: the documents (pure), and the backend's clearLimiter over
 * a fake nft that logs its argv and stdin. An unban forgets its addresses here, so however many there are it must
 * be one nft, one transaction (it was one nft per address and set: an unban of 1000 ran 2000, ~40 s).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { removeBatch } from '../../../../src/backend/nftables/bans.js';
import { nftablesBackend } from '../../../../src/backend/nftables/index.js';
import { flushDocument, forgetDocument, limiterNames, limiterSetsOf } from '../../../../src/backend/nftables/limiter.js';
import { useFakeBin } from '../../fake-bin.js';

const PRESENT = ['f2b-SSH', 'rl-SSH', 'rlheld-SSH', 'rl6-SSH', 'rlheld6-SSH', 'rl-WEB'];

describe('the documents', () => {
  test('limiter names from the sets present, and their sets per family', () => {
    expect(limiterNames(PRESENT)).toEqual(['SSH', 'WEB']);
    expect(limiterSetsOf(PRESENT, ['SSH'])).toEqual([
      { family: 'ipv4', set: 'rl-SSH' }, { family: 'ipv6', set: 'rl6-SSH' },
      { family: 'ipv4', set: 'rlheld-SSH' }, { family: 'ipv6', set: 'rlheld6-SSH' },
    ]);
  });

  test('clear: one flush per set', () => {
    expect(flushDocument(['rl-SSH', 'rlheld-SSH'])).toBe('flush set inet tsfirewall rl-SSH\nflush set inet tsfirewall rlheld-SSH\n');
  });

  test('forget: every set of the address\'s family, add then delete (a source not held is no error), one document', () => {
    const sets = limiterSetsOf(PRESENT, ['SSH']);
    const doc = forgetDocument(sets, ['198.51.100.7', '2001:db8::7', '198.51.100.8']);
    expect(doc).toBe([
      removeBatch('rl-SSH', ['198.51.100.7', '198.51.100.8']),
      removeBatch('rl6-SSH', ['2001:db8::7']),
      removeBatch('rlheld-SSH', ['198.51.100.7', '198.51.100.8']),
      removeBatch('rlheld6-SSH', ['2001:db8::7']),
    ].join(''));
    expect(forgetDocument(sets.filter((s) => s.family === 'ipv6'), ['198.51.100.7'])).toBe('');
  });

  test('1000 sources are two commands per set whatever their number (chunks of 1024 elements)', () => {
    const ips = Array.from({ length: 1000 }, (_, i) => `198.18.${i >> 8}.${(i & 255) + 1}`);
    const doc = forgetDocument([{ family: 'ipv4', set: 'rl-SSH' }], ips);
    expect(doc.split('\n').filter(Boolean).map((l) => l.split(' {')[0])).toEqual([
      'add element inet tsfirewall rl-SSH', 'delete element inet tsfirewall rl-SSH',
    ]);
  });
});

describe("the backend's clearLimiter, over a fake nft", () => {
  const bin = useFakeBin('nftlimiter');
  const table = readFileSync(new URL('./fixtures/rich-live.json', import.meta.url), 'utf8');
  /** Answers `-j list table` with the rich fixture (rl-SSH, rlheld-SSH and their IPv6 twins); logs the rest. */
  const fakeNft = () => {
    const log = join(bin.dir, 'log');
    bin.install('nft', [
      `echo "ARGV $*" >> ${log}`,
      `if [ "$1" = "-j" ]; then cat <<'EOF'\n${table}\nEOF\nexit 0; fi`,
      `if [ "$1" = "-f" ]; then cat >> ${log}; fi`,
    ]);
    return () => readFileSync(log, 'utf8');
  };

  test('an unban of 1000 sources is one nft -f -, not one per source', async () => {
    const log = fakeNft();
    const ips = Array.from({ length: 1000 }, (_, i) => `198.18.${i >> 8}.${(i & 255) + 1}`);
    expect(await nftablesBackend().clearLimiter(['SSH'], ips)).toEqual(['SSH']);
    const calls = log().split('\n').filter((l) => l.startsWith('ARGV '));
    expect(calls).toEqual(['ARGV -j list table inet tsfirewall', 'ARGV -f -']);
    expect(log()).toContain(removeBatch('rlheld-SSH', ips));
  });

  test('no source of a family with sets runs nothing more than the read', async () => {
    const log = fakeNft();
    await nftablesBackend().clearLimiter(['WEB'], ['198.51.100.7']);
    expect(log()).toBe('ARGV -j list table inet tsfirewall\n');
  });
});
