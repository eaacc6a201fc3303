/**
 * The ban batches' text (pure), and the store's reading of nft's answers through a fake nft that records its
 * argv and stdin. The kernel side (10k elements in a namespace) is test/integration/nftables-bans.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { addBatch, checkedAddresses, createBatch, CREATE_FIRST, nftBanStore, removeBatch, setOf } from '../../../../src/backend/nftables/bans.js';
import type { BanTarget } from '../../../../src/backend/types.js';
import { useFakeBin } from '../../fake-bin.js';

const SSH: BanTarget = { family: 'ipv4', name: 'f2b-SSH', kind: 'set' };
const SSH6: BanTarget = { family: 'ipv6', name: 'f2b6-SSH', kind: 'set' };

describe('batch text', () => {
  test('add: add, delete, add with the timeout, so a ban already there gets the new one', () => {
    expect(addBatch('f2b-SSH', ['198.51.100.7', '198.51.100.8'], 600)).toBe([
      'add element inet tsfirewall f2b-SSH { 198.51.100.7, 198.51.100.8 }',
      'delete element inet tsfirewall f2b-SSH { 198.51.100.7, 198.51.100.8 }',
      'add element inet tsfirewall f2b-SSH { 198.51.100.7 timeout 600s, 198.51.100.8 timeout 600s }',
      '',
    ].join('\n'));
  });

  test('no timeout, or 0, means until removed; fractions are whole seconds', () => {
    expect(addBatch('f2b-SSH', ['198.51.100.7'])).not.toContain('timeout');
    expect(addBatch('f2b-SSH', ['198.51.100.7'], 0)).not.toContain('timeout');
    expect(addBatch('f2b-SSH', ['198.51.100.7'], 90.9)).toContain('198.51.100.7 timeout 90s }');
  });

  test('create: one command per brace list, each element with the timeout, for a batch that is all new', () => {
    expect(createBatch('f2b-SSH', ['198.51.100.7', '198.51.100.8'], 600)).toBe(
      'create element inet tsfirewall f2b-SSH { 198.51.100.7 timeout 600s, 198.51.100.8 timeout 600s }\n');
    expect(createBatch('f2b-SSH', ['198.51.100.7'])).toBe('create element inet tsfirewall f2b-SSH { 198.51.100.7 }\n');
    expect(createBatch('f2b-SSH', Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`), 60).trimEnd().split('\n')).toHaveLength(3);
  });

  test('remove: add then delete, so an address already gone is no error', () => {
    expect(removeBatch('f2b6-SSH', ['2001:db8::7'])).toBe(
      'add element inet tsfirewall f2b6-SSH { 2001:db8::7 }\ndelete element inet tsfirewall f2b6-SSH { 2001:db8::7 }\n');
  });

  test('a large batch is one document of short commands, every address exactly once per command kind', () => {
    const ips = Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const lines = addBatch('f2b-SSH', ips, 60).trimEnd().split('\n');
    expect(lines).toHaveLength(9);
    const adds = lines.slice(6).flatMap((l) => l.replace(/^.*\{ | \}$/g, '').split(', '));
    expect(adds).toEqual(ips.map((ip) => `${ip} timeout 60s`));
  });

  test('addresses are parsed strictly, made canonical, deduplicated, and must be of the set\'s family', () => {
    expect(checkedAddresses(SSH6, ['2001:DB8:0::7', '2001:db8::7'])).toEqual(['2001:db8::7']);
    expect(checkedAddresses(SSH, ['::ffff:198.51.100.7'])).toEqual(['198.51.100.7']);
    expect(() => checkedAddresses(SSH, ['198.51.100.7', '198.51.100.0/24'])).toThrow(/not a host address: "198.51.100.0\/24"/);
    expect(() => checkedAddresses(SSH, ['198.51.100.7 } ; flush ruleset ; add element x y {'])).toThrow(/not a host address/);
    expect(() => checkedAddresses(SSH, ['2001:db8::7'])).toThrow(/2001:db8::7 is IPv6, not for f2b-SSH/);
  });

  test('a chain target (BAN_MODE=chain) names the same set as ipset mode', () => {
    expect(setOf({ family: 'ipv4', name: 'fail2ban-SSH', kind: 'chain' })).toBe('f2b-SSH');
    expect(setOf({ family: 'ipv6', name: 'fail2ban-SSH', kind: 'chain' })).toBe('f2b6-SSH');
    expect(setOf(SSH)).toBe('f2b-SSH');
  });
});

describe('the store, over a fake nft', () => {
  const bin = useFakeBin('nftbans');
  /** A fake nft that logs argv and stdin, prints `stdout` and exits `code` with `stderr`. */
  const fake = (opts: { stdout?: string; stderr?: string; code?: number } = {}) => {
    const log = join(bin.dir, 'log');
    const nft = bin.install('nft', [
      `echo "ARGV $*" >> ${log}`,
      `if [ "$1" = "-f" ]; then cat >> ${log}; fi`,
      ...(opts.stdout ? [`cat <<'EOF'\n${opts.stdout}\nEOF`] : []),
      ...(opts.stderr ? [`echo '${opts.stderr}' >&2`] : []),
      `exit ${opts.code ?? 0}`,
    ]);
    return { store: nftBanStore({ nft }), log: () => readFileSync(log, 'utf8') };
  };
  const fixture = readFileSync(new URL('./fixtures/list-set.json', import.meta.url), 'utf8');
  const ABSENT = readFileSync(new URL('./fixtures/absent.stderr', import.meta.url), 'utf8').split('\n')[0]!;

  test('members: nft -j list set, read by parse.ts', async () => {
    const { store, log } = fake({ stdout: fixture });
    expect(await store.members(SSH)).toEqual([{ ip: '198.51.100.7', expiresIn: 599 }, { ip: '198.51.100.8' }]);
    expect(log()).toBe('ARGV -j list set inet tsfirewall f2b-SSH\n');
  });

  test('members of a set that does not exist: undefined, not an error', async () => {
    expect(await fake({ stderr: ABSENT, code: 1 }).store.members(SSH)).toBeUndefined();
  });

  test('add sends one nft -f - with the batch on stdin and says how many', async () => {
    const { store, log } = fake();
    expect(await store.add(SSH, ['198.51.100.7', '198.51.100.7', '198.51.100.8'], { timeout: 600 })).toBe(2);
    expect(log()).toBe(`ARGV -f -\n${addBatch('f2b-SSH', ['198.51.100.7', '198.51.100.8'], 600)}`);
  });

  test('a large batch goes as one create when none of it is there yet', async () => {
    const { store, log } = fake();
    const ips = Array.from({ length: CREATE_FIRST }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    expect(await store.add(SSH, ips, { timeout: 600 })).toBe(CREATE_FIRST);
    expect(log()).toBe(`ARGV -f -\n${createBatch('f2b-SSH', ips, 600)}`);
  });

  test('a large batch the kernel refuses to create (one address is there) goes again as add, delete, add', async () => {
    const log = join(bin.dir, 'log');
    const nft = bin.install('nft', [
      `echo "ARGV $*" >> ${log}`,
      `input=$(cat); printf '%s\n' "$input" >> ${log}`,
      `case "$input" in create*) echo 'Error: Could not process rule: File exists' >&2; exit 1 ;; esac`,
    ]);
    const ips = Array.from({ length: CREATE_FIRST }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
    expect(await nftBanStore({ nft }).add(SSH, ips, { timeout: 600 })).toBe(CREATE_FIRST);
    expect(readFileSync(log, 'utf8')).toBe(`ARGV -f -\n${createBatch('f2b-SSH', ips, 600)}ARGV -f -\n${addBatch('f2b-SSH', ips, 600)}`);
  });

  test('a refused batch is an ApplyError that says why; a missing set says the firewall is not started', async () => {
    await expect(fake({ stderr: 'Error: syntax error', code: 1 }).store.add(SSH, ['198.51.100.7'])).rejects.toThrow(/loading 1 bans into f2b-SSH failed: Error: syntax error/);
    await expect(fake({ stderr: ABSENT, code: 1 }).store.remove(SSH, ['198.51.100.7'])).rejects.toThrow(/set f2b-SSH does not exist \(is the firewall started\?\)/);
  });

  test('nothing to do runs nothing; a bad address runs nothing either', async () => {
    const { store } = fake();
    expect(await store.add(SSH, [])).toBe(0);
    await expect(store.add(SSH, ['198.51.100.7', 'nonsense'])).rejects.toThrow(/nonsense/);
    expect(() => readFileSync(join(bin.dir, 'log'))).toThrow();
  });

  test('flush and holds', async () => {
    const { store, log } = fake();
    await store.flush(SSH6);
    expect(await store.holds(SSH6, '2001:DB8::7')).toBe(true);
    expect(log()).toBe('ARGV -f -\nflush set inet tsfirewall f2b6-SSH\nARGV get element inet tsfirewall f2b6-SSH { 2001:db8::7 }\n');
    expect(await fake({ stderr: 'Error: Could not process rule: No such file or directory', code: 1 }).store.holds(SSH6, '2001:db8::7')).toBe(false);
  });
});
