/**
 * Batched ban writes: a large batch goes to one `ipset restore` per core, all at once, every line exactly once; a
 * small one to a single program; a failing shard fails the batch. A fake ipset first on PATH records each call.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { loadBans, removeFromSet } from '../../../src/bans/kernel.js';

let dir: string;
const savedPath = process.env.PATH;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tsfw-batch-')); });
afterEach(() => { process.env.PATH = savedPath; rmSync(dir, { recursive: true, force: true }); });

/** Each call's stdin lands in its own file; `failOn` makes the call whose input contains it exit 1. */
function fakeIpset(failOn = 'never-matches'): () => string[][] {
  const calls = join(dir, 'calls');
  writeFileSync(join(dir, 'ipset'), [
    '#!/bin/sh',
    `f=$(mktemp ${calls}.XXXXXX)`,
    'cat > "$f"',
    `if grep -q '${failOn}' "$f"; then echo "ipset v7: Syntax error" >&2; exit 1; fi`,
  ].join('\n'));
  chmodSync(join(dir, 'ipset'), 0o755);
  process.env.PATH = `${dir}:${savedPath}`;
  return () => readdirSync(dir).filter((f) => f.startsWith('calls.')).map((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
}

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`);

test('6000 bans: one ipset restore per core (at most 2 for this size), every add exactly once', async () => {
  const calls = fakeIpset();
  expect(await loadBans('f2b-SSH', addresses(6000), { timeout: 600 })).toBe(6000);
  const shards = calls();
  expect(shards).toHaveLength(Math.min(availableParallelism(), 2));
  const lines = shards.flat();
  expect(lines).toHaveLength(6000);
  expect(new Set(lines)).toEqual(new Set(addresses(6000).map((ip) => `add f2b-SSH ${ip} timeout 600`)));
});

test('a small batch is one program', async () => {
  const calls = fakeIpset();
  await removeFromSet('f2b-SSH', addresses(100));
  expect(calls()).toHaveLength(1);
  expect(calls()[0]).toHaveLength(100);
});

test('a shard that fails fails the batch, with the program\'s message', async () => {
  fakeIpset('198.18.23.1$');
  await expect(loadBans('f2b-SSH', addresses(6000))).rejects.toThrow(/loading 6000 bans into f2b-SSH failed: ipset v7: Syntax error/);
});
