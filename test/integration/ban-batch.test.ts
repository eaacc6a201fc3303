/**
 * The batch ban path through the real CLI (`ban -` from stdin). On iptables, against the real ipset program
 * (bans/kernel.ts): every batch repeats the set's create line so ipset skips a kernel lookup per line. That line must
 * never create a set the firewall does not use, and a set made with other settings must still take the bans (the
 * batch is sent again without the line); both are ipset's own, so iptables-nft only. On nftables: 10k bans are one
 * `nft -f -` transaction into our table's set, and before start there is no set to fill.
 */
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { banAddresses } from '../harness/ban-addresses.js';
import type { Host } from '../harness/netns.js';
import { mustExec, nftTable, tsfw, useCliCopy, useLoneFirewall, type BackendName } from './helpers.js';

const cli = useCliCopy();
const { configs } = cli;
const conf = configs.write('FAIL2BAN=no\nBAN_MODE=ipset\n');

/** `tsfirewall ban -` or `unban -`: the addresses one a line on stdin. */
const fromStdin = (fw: Host, backend: BackendName, verb: 'ban' | 'unban', ips: readonly string[]) =>
  fw.exec([process.execPath, cli.path, '--config', conf, verb, '-'], {
    input: ips.join('\n') + '\n', env: { TSFIREWALL_BACKEND: backend, TSFIREWALL_RUN_DIR: join(dirname(cli.path), 'run') }, timeoutMs: 60_000,
  });

describe('the ipset batch (iptables-nft)', () => {
  let fw: Host;
  useLoneFirewall((host) => { fw = host; });

  /** 3000 addresses from the benchmarking range (RFC 2544): never sent a packet, only held in the lab's set. */
  const addresses = banAddresses(3000);

  const banFromStdin = (verb: 'ban' | 'unban', ips: readonly string[]) => fromStdin(fw, 'iptables-nft', verb, ips);

  const entries = async (set: string) => Number(/Number of entries: (\d+)/.exec(await mustExec(fw, ['ipset', 'list', '-t', set]))?.[1]);

  test('before start there is no ban set: the batch fails at its first line and creates nothing', async () => {
    const r = await banFromStdin('ban', addresses.slice(0, 10));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/loading 10 bans into f2b-SSH failed: .*set with the given name does not exist/);
    expect(await mustExec(fw, ['ipset', 'list', '-n'])).not.toMatch(/f2b-SSH/);
  });

  test('after start, 3000 bans from stdin land in the set with the jail\'s timeout, and unban lifts them', async () => {
    expect((await tsfw(cli.path, fw, 'iptables-nft', ['start'], conf)).exitCode).toBe(0);
    const r = await banFromStdin('ban', addresses);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await entries('f2b-SSH')).toBe(3000);
    const saved = await mustExec(fw, ['ipset', 'save', 'f2b-SSH']);
    expect(saved).toMatch(/^create f2b-SSH hash:ip family inet .*maxelem 262144 timeout 0/m);
    expect(saved).toMatch(/^add f2b-SSH 198\.18\.11\.184 timeout [1-9]\d*$/m);
    expect((await banFromStdin('unban', addresses.slice(0, 1000))).exitCode).toBe(0);
    expect(await entries('f2b-SSH')).toBe(2000);
  });

  test('a ban set with other settings still takes a batch (sent again without the create line)', async () => {
    // Swapped in under the rules' feet, as another tool could: same type and family, another maxelem.
    await mustExec(fw, ['ipset', 'create', 'f2b-SSH-other', 'hash:ip', 'family', 'inet', 'maxelem', '65536', 'timeout', '0']);
    await mustExec(fw, ['ipset', 'swap', 'f2b-SSH', 'f2b-SSH-other']);
    const r = await banFromStdin('ban', addresses.slice(0, 500));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await entries('f2b-SSH')).toBe(500);
    expect(await mustExec(fw, ['ipset', 'list', '-t', 'f2b-SSH'])).toMatch(/maxelem 65536/);
    expect((await banFromStdin('unban', addresses.slice(0, 200))).exitCode).toBe(0);
    expect(await entries('f2b-SSH')).toBe(300);
  });
});

describe('the batch on nftables', () => {
  let fw: Host;
  useLoneFirewall((host) => { fw = host; });

  /** 10k from the benchmarking range, as in nftables-bans.test.ts: the CLI's path this time. */
  const many = banAddresses(10_000);
  const members = async () => {
    const json = JSON.parse(await mustExec(fw, ['nft', '-j', 'list', 'set', 'inet', 'tsfirewall', 'f2b-SSH'])) as
      { nftables: { set?: { elem?: { elem: { val: string; timeout: number; expires: number } }[] } }[] };
    return json.nftables.find((o) => o.set)!.set!.elem ?? [];
  };

  test('before start there is no set: the batch fails, says why, and creates nothing', async () => {
    const r = await fromStdin(fw, 'nftables', 'ban', many.slice(0, 10));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/loading 10 bans into f2b-SSH failed: set f2b-SSH does not exist \(is the firewall started\?\)/);
    expect(await nftTable(fw)).toBe('');
  });

  test("after start, 10k bans from stdin land in the set with the jail's timeout, and unban lifts 1000", async () => {
    expect((await tsfw(cli.path, fw, 'nftables', ['start'], conf)).exitCode).toBe(0);
    const r = await fromStdin(fw, 'nftables', 'ban', many);
    expect(r.exitCode, r.stderr).toBe(0);
    const elems = await members();
    expect(elems).toHaveLength(10_000);
    expect(new Set(elems.map((e) => e.elem.val))).toEqual(new Set(many));
    // JAIL_BANTIME's default, 600 s, on every element, each counting down from it.
    expect(elems.every((e) => e.elem.timeout === 600 && e.elem.expires > 0 && e.elem.expires <= 600)).toBe(true);
    const unban = await fromStdin(fw, 'nftables', 'unban', many.slice(0, 1000));
    expect(unban.exitCode, unban.stderr).toBe(0);
    const left = (await members()).map((e) => e.elem.val);
    expect(left).toHaveLength(9_000);
    expect(new Set(left)).toEqual(new Set(many.slice(1000)));
  });
});
