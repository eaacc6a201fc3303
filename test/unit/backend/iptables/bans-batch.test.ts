/**
 * Batched ban writes: a large batch goes to one `ipset restore` per core, all at once, every line exactly once; a
 * small one to a single program; a failing shard fails the batch. Each batch repeats the set's create line second
 * (ipset then skips a kernel lookup per line) and is sent again without it when the set has other settings.
 * A fake ipset first on PATH records each call.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { loadBans, removeFromSet } from '../../../../src/backend/iptables/bans.js';
import { banSetSpec } from '../../../../src/compile/plan.js';
import { ipsetCreateLine } from '../../../../src/backend/iptables/ipset-text.js';
import { banAddresses } from '../../../harness/ban-addresses.js';
import { useFakeBin } from '../../fake-bin.js';

const SSH = banSetSpec('f2b-SSH', 'ipv4');
const CREATE = ipsetCreateLine(SSH).trimEnd();

const bin = useFakeBin('batch');

/**
 * Each call's stdin lands in its own file. `failOn` makes a call whose input contains it exit 1; `refuseCreate`
 * answers any input holding a create line as ipset does for a set with other settings.
 */
function fakeIpset(opts: { failOn?: string; refuseCreate?: boolean } = {}): () => string[][] {
  const calls = join(bin.dir, 'calls');
  bin.install('ipset', [
    `f=$(mktemp ${calls}.XXXXXX)`,
    'cat > "$f"',
    opts.refuseCreate ? `if grep -q '^create ' "$f"; then echo "ipset v7.17: Error in line 2: Set cannot be created: set with the same name already exists" >&2; exit 1; fi` : '',
    `if grep -q '${opts.failOn ?? 'never-matches'}' "$f"; then echo "ipset v7: Syntax error" >&2; exit 1; fi`,
  ]);
  return () => readdirSync(bin.dir).filter((f) => f.startsWith('calls.')).map((f) => readFileSync(join(bin.dir, f), 'utf8').split('\n').filter(Boolean));
}

const addresses = banAddresses;

test('16000 bans: one ipset restore per core (at most 2 for this size), every add exactly once, the create line second', async () => {
  const calls = fakeIpset();
  expect(await loadBans(SSH, addresses(16000), { timeout: 600 })).toBe(16000);
  const shards = calls();
  expect(shards).toHaveLength(Math.min(availableParallelism(), 2));
  for (const shard of shards) {
    expect(shard[0]).toMatch(/^add f2b-SSH /);
    expect(shard[1]).toBe(CREATE);
    expect(shard.filter((l) => l.startsWith('create '))).toHaveLength(1);
  }
  const adds = shards.flat().filter((l) => !l.startsWith('create '));
  expect(adds).toHaveLength(16000);
  expect(new Set(adds)).toEqual(new Set(addresses(16000).map((ip) => `add f2b-SSH ${ip} timeout 600`)));
});

test('a batch of 10k is one program (a second would cost more than it saves)', async () => {
  const calls = fakeIpset();
  await loadBans(SSH, addresses(10000));
  expect(calls()).toHaveLength(1);
});

test('a small batch is one program, the create line second', async () => {
  const calls = fakeIpset();
  await removeFromSet(SSH, addresses(100));
  expect(calls()).toHaveLength(1);
  expect(calls()[0]).toEqual([`del f2b-SSH ${addresses(1)[0]}`, CREATE, ...addresses(100).slice(1).map((ip) => `del f2b-SSH ${ip}`)]);
});

test('a set with other settings refuses the create line: the batch goes again without it, every add kept', async () => {
  const calls = fakeIpset({ refuseCreate: true });
  expect(await loadBans(SSH, addresses(10))).toBe(10);
  const sent = calls();
  expect(sent).toHaveLength(2);
  const retry = sent.find((c) => !c.includes(CREATE));
  expect(retry).toEqual(addresses(10).map((ip) => `add f2b-SSH ${ip}`));
});

test('a shard that fails fails the batch, with the program\'s message, and is not sent again', async () => {
  const calls = fakeIpset({ failOn: '198.18.23.1$' });
  await expect(loadBans(SSH, addresses(16000))).rejects.toThrow(/loading 16000 bans into f2b-SSH failed: ipset v7: Syntax error/);
  expect(calls()).toHaveLength(Math.min(availableParallelism(), 2));
});
