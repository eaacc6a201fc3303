/**
 * A ban set left with other settings (an older build made it without per-entry timeouts, with a small maxelem) must
 * not stop the firewall from starting, and its bans must survive the rebuild. iptables only: ipsets are the iptables
 * backends' ban store (nftables keeps its bans in its own table's sets, declared with the ruleset).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLab, type Lab } from '../harness/netns.js';
import { mustExec, tsfw, useCliCopy } from './helpers.js';

const cli = useCliCopy();
let lab: Lab;
const { configs } = cli;
beforeAll(async () => {
  lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
});
afterAll(async () => { await lab?.destroy(); });

test('start rebuilds a ban set that has other settings, keeping its entries', async () => {
  const fw = lab.hosts.fw!;
  await mustExec(fw, ['ipset', 'create', 'f2b-SSH', 'hash:ip', 'maxelem', '1024']);
  await mustExec(fw, ['ipset', 'add', 'f2b-SSH', '198.51.100.7']);
  const r = await tsfw(cli.path, fw, 'iptables-nft', ['start'], configs.write('FAIL2BAN=no\nBAN_MODE=ipset\n'));
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/ban set f2b-SSH had other settings; rebuilt with ours, its entries kept/);
  const saved = await mustExec(fw, ['ipset', 'save', 'f2b-SSH']);
  expect(saved).toMatch(/^create f2b-SSH hash:ip family inet .*maxelem 262144 timeout 0/m);
  expect(saved).toMatch(/^add f2b-SSH 198\.51\.100\.7\b/m);
  expect(await mustExec(fw, ['ipset', 'list', '-n'])).not.toMatch(/f2b-SSH-new/);
  expect(await mustExec(fw, ['iptables-nft-save'])).toMatch(/--match-set f2b-SSH src/);
});
