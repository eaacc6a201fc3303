/**
 * The golden files are not just stable, they are loadable: each passes `iptables-restore --test` for both
 * backends, run by the CLI's own throwaway-namespace test (unshare --net), with the ban sets it names created there.
 * iptables only: these are iptables-restore documents; nftables' golden documents are nftables-golden.test.ts's.
 */
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

const CLI = new URL('../../dist/tsfirewall.cjs', import.meta.url).pathname;
const GOLDEN = new URL('../unit/backend/iptables/golden/', import.meta.url);
/** The sets a document names, made as start makes them: ban sets of hosts, blocklists (bl-*) of networks. */
const setsFor = (text: string, v6: boolean) => [...new Set([...text.matchAll(/--match-set (\S+)/g)].map((m) => m[1]!))]
  .map((name) => `create ${name} ${name.startsWith('bl') ? 'hash:net' : 'hash:ip'} family ${v6 ? 'inet6' : 'inet'}\n`).join('');

describe.each(['nft', 'legacy'])('iptables-%s', (backend) => {
  test.each(readdirSync(GOLDEN).filter((f) => f.endsWith('.rules')))('%s', async (file) => {
    const family = file.includes('.ipv6.') ? 'ip6tables' : 'iptables';
    const text = readFileSync(new URL(file, GOLDEN), 'utf8');
    const payload = { ipsetScript: setsFor(text, family === 'ip6tables'), tests: [{ restore: `${family}-${backend}-restore`, text }] };
    const r = await execa('unshare', ['--net', '--', process.execPath, CLI, '__sandbox-test'], { input: JSON.stringify(payload), reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  test('a broken document is rejected (the check has teeth)', async () => {
    const payload = { ipsetScript: '', tests: [{ restore: `iptables-${backend}-restore`, text: '*filter\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n' }] };
    const r = await execa('unshare', ['--net', '--', process.execPath, CLI, '__sandbox-test'], { input: JSON.stringify(payload), reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/port/i);
  });

  test('a rule only the kernel refuses (a jump to a missing chain, which --test lets through on nft) is caught by the real load', async () => {
    const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j no-such-chain\nCOMMIT\n';
    const payload = { ipsetScript: '', tests: [{ restore: `iptables-${backend}-restore`, text }] };
    const r = await execa('unshare', ['--net', '--', process.execPath, CLI, '__sandbox-test'], { input: JSON.stringify(payload), reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no-such-chain/);
  });
});
