/**
 * The nftables fail2ban action, pinned: the same shape as the ipset action (src/backend/iptables/fail2ban.ts), and command lines
 * that, run through /bin/sh as fail2ban runs them, give nft exactly one transaction of the intended words.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { NFT_ACTION, nftablesAction, nftablesFail2ban } from '../../../../src/backend/nftables/fail2ban.js';
import { ipsetAction } from '../../../../src/backend/iptables/fail2ban.js';
import { useFakeBin } from '../../fake-bin.js';

const bin = useFakeBin('nftf2b');

test('the whole text', () => {
  expect(nftablesAction({ nft: '/usr/sbin/nft', ipv6: true, source: '/etc/default/tsfirewall' })).toBe(`\
# fail2ban action: bans are elements of the sets in table inet tsfirewall, which tsfirewall owns.
# Written by tsfirewall from /etc/default/tsfirewall; \`tsfirewall start\` overwrites it.

[Definition]
# tsfirewall declares f2b-<name> / f2b6-<name> in its table before its rules load and deletes the table on stop.
actionstart =
actionstop =
actioncheck =
# Each element carries the ban time (timeout 0s: until unbanned), so the kernel expires it even if fail2ban is
# not running to unban it.
actionban = <nftables> add element inet tsfirewall <addr_set> \\{ <ip> \\}\\; delete element inet tsfirewall <addr_set> \\{ <ip> \\}\\; add element inet tsfirewall <addr_set> \\{ <ip> timeout <ipsettime>s \\}
# fail2ban lengthens a repeat offender's ban after the fact (bantime.increment): the ban's commands renew it.
actionprolong = %(actionban)s
actionunban = <nftables> add element inet tsfirewall <addr_set> \\{ <ip> \\}\\; delete element inet tsfirewall <addr_set> \\{ <ip> \\}
# Stopping fail2ban leaves the elements in place (they expire on their own): a restart opens no window.
actionflush = true

[Init]
nftables = /usr/sbin/nft
ipsettime = 0
addr_set = f2b-<name>

[Init?family=inet6]
addr_set = f2b6-<name>
`);
});

test('the house style: the same actions as the ipset action, in the same order', () => {
  const keys = (text: string) => text.split('\n').map((l) => /^(\w+) =/.exec(l)?.[1]).filter(Boolean);
  expect(keys(nftablesAction({ nft: 'nft', ipv6: true }))).toEqual(keys(ipsetAction({ ipset: 'ipset', ipv6: true })).map((k) => (k === 'ipset' ? 'nftables' : k === 'ipmset' ? 'addr_set' : k)));
});

test('without IPv6 sets the IPv6 commands are no-ops', () => {
  expect(nftablesAction({ nft: 'nft', ipv6: false })).toMatch(/\[Init\?family=inet6\]\naddr_set = f2b6-<name>\n# IPV6 is not "mirror".*\nnftables = true\n$/);
});

test('the seam: one action file and the jail line', () => {
  const f2b = nftablesFail2ban({ nft: 'nft', ipv6: true });
  expect([...f2b.files.keys()]).toEqual([NFT_ACTION]);
  expect(f2b.action({ banName: 'SSH', kind: 'set' }, '<bantime>')).toBe('tsfirewall-nftables[name=SSH, ipsettime=<bantime>]');
});

test('through /bin/sh, as fail2ban runs it, each action is one nft call with one command per semicolon', () => {
  const log = join(bin.dir, 'argv');
  const nft = bin.install('nft', `printf '%s|' "$@" >> ${log}; echo >> ${log}`);
  const text = nftablesAction({ nft, ipv6: true });
  const line = (key: string) => new RegExp(`^${key} = (.*)$`, 'm').exec(text)![1]!;
  const tags = (cmd: string) => cmd.replace(/<nftables>/g, nft).replace(/<addr_set>/g, 'f2b-SSH').replace(/<ip>/g, '198.51.100.7').replace(/<ipsettime>/g, '600');
  execFileSync('/bin/sh', ['-c', tags(line('actionban'))]);
  execFileSync('/bin/sh', ['-c', tags(line('actionunban'))]);
  const calls = readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => l.split('|').filter(Boolean).join(' '));
  expect(calls).toEqual([
    'add element inet tsfirewall f2b-SSH { 198.51.100.7 }; delete element inet tsfirewall f2b-SSH { 198.51.100.7 }; add element inet tsfirewall f2b-SSH { 198.51.100.7 timeout 600s }',
    'add element inet tsfirewall f2b-SSH { 198.51.100.7 }; delete element inet tsfirewall f2b-SSH { 198.51.100.7 }',
  ]);
});
