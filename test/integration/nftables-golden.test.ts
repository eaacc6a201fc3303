/**
 * The nftables golden documents are not just stable, they load: each passes `nft -c` in a throwaway namespace
 * (unshare --net), loads, and loads again over itself (the reload form). The check has teeth: a broken document
 * is refused, and checking changes nothing.
 */
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

const GOLDEN = new URL('../unit/backend/nftables/golden/', import.meta.url);
const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.nft'));

/** A script of nft calls in a fresh network namespace; the documents come in on stdin, one per call. */
async function inThrowawayNamespace(script: string, input?: string) {
  return execa('unshare', ['--net', '--', 'sh', '-c', script], { input, reject: false, timeout: 60_000 });
}

test('there is a golden document per case', () => {
  expect(files.sort()).toEqual(['blocklists.nft', 'boot.nft', 'default-chain.nft', 'default.nft', 'rich.nft', 'scope-chain.nft', 'scope.nft', 'snippets.nft']);
});

test.each(files)('%s: nft -c accepts it in an empty namespace', async (file) => {
  const r = await inThrowawayNamespace('nft -c -f - && ! nft list table inet tsfirewall 2>/dev/null', readFileSync(new URL(file, GOLDEN), 'utf8'));
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
});

test.each(files)('%s: loads, and loads again over itself', async (file) => {
  const doc = readFileSync(new URL(file, GOLDEN), 'utf8');
  const r = await inThrowawayNamespace('d=$(cat); printf "%s\\n" "$d" | nft -f - && printf "%s\\n" "$d" | nft -f - && nft list table inet tsfirewall | grep -c "comment \\"tsfw:"', doc);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  expect(Number(r.stdout.trim())).toBe(doc.split('\n').filter((l) => l.includes('comment "tsfw:')).length);
});

test('a broken document is refused (the check has teeth)', async () => {
  const r = await inThrowawayNamespace('nft -c -f -', 'table inet tsfirewall {\n\tchain input4 {\n\t\ttcp dport 99999 accept\n\t}\n}\n');
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/99999/);
});

test('a jump to a chain the document does not declare is refused', async () => {
  const r = await inThrowawayNamespace('nft -c -f -', 'table inet tsfirewall {\n\tchain input4 {\n\t\tjump no-such-chain\n\t}\n}\n');
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/no-such-chain/);
});
