/**
 * The issue-16 golden documents (test/unit/backend/golden-network/) load: each nft document passes `nft -c` in an
 * empty throwaway namespace (unshare --net), loads, and loads again over itself; each iptables document passes the
 * CLI's own sandboxed test (`__sandbox-test`: iptables-restore --test, then a real load in the sandbox) on both
 * flavours, with the ban sets it names created there.
 */
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

const CLI = new URL('../../dist/tsfirewall.cjs', import.meta.url).pathname;
const GOLDEN = new URL('../unit/backend/golden-network/', import.meta.url);
const files = readdirSync(GOLDEN);
const SETS = 'create f2b-SSH hash:ip family inet\ncreate f2b6-SSH hash:ip family inet6\n';

test('every case has its nft document and an iptables document per family', () => {
  const cases = files.filter((f) => f.endsWith('.nft')).map((f) => f.replace(/\.nft$/, '')).sort();
  expect(cases).toEqual(['egress', 'interfaces', 'ipv6', 'ipv6-only', 'router']);
  for (const c of cases) expect(files).toEqual(expect.arrayContaining([`${c}.ipv4.rules`, `${c}.ipv6.rules`]));
});

test.each(files.filter((f) => f.endsWith('.nft')))('%s: nft -c accepts it in an empty namespace, it loads, and loads again over itself', async (file) => {
  const doc = readFileSync(new URL(file, GOLDEN), 'utf8');
  const script = 'd=$(cat); printf "%s\\n" "$d" | nft -c -f - && ! nft list table inet tsfirewall 2>/dev/null && ' +
    'printf "%s\\n" "$d" | nft -f - && printf "%s\\n" "$d" | nft -f - && nft list table inet tsfirewall | grep -c "comment \\"tsfw:"';
  const r = await execa('unshare', ['--net', '--', 'sh', '-c', script], { input: doc, reject: false, timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  expect(Number(String(r.stdout).trim())).toBe(doc.split('\n').filter((l) => l.includes('comment "tsfw:')).length);
});

describe.each(['nft', 'legacy'])('iptables-%s', (flavour) => {
  test.each(files.filter((f) => f.endsWith('.rules')))('%s', async (file) => {
    const family = file.endsWith('.ipv6.rules') ? 'ip6tables' : 'iptables';
    const payload = { ipsetScript: SETS, tests: [{ restore: `${family}-${flavour}-restore`, text: readFileSync(new URL(file, GOLDEN), 'utf8') }] };
    const r = await execa('unshare', ['--net', '--', process.execPath, CLI, '__sandbox-test'], { input: JSON.stringify(payload), reject: false, timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
});
