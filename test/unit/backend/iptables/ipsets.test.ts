/** Which ipset programs start runs for the ban sets, given what `ipset list -t` showed: a fake ipset records them. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseSetHeaders, type SetHeaders } from '../../../../src/backend/iptables/ipset-list.js';
import { ensureIpsets } from '../../../../src/backend/iptables/ipsets.js';
import type { IpsetSpec } from '../../../../src/model.js';
import { useFakeBin } from '../../fake-bin.js';

const SSH: IpsetSpec = { name: 'f2b-SSH', family: 'inet', type: 'hash:ip', maxelem: 262144 };
const WEB: IpsetSpec = { name: 'f2b-WEB', family: 'inet', type: 'hash:ip', maxelem: 262144 };
const header = (name: string, settings: string) => `Name: ${name}\nType: hash:ip\nHeader: ${settings}\nNumber of entries: 1\n`;
const OURS = 'family inet hashsize 4096 maxelem 262144 timeout 0 bucketsize 12 initval 0x1';
const OLD = 'family inet hashsize 1024 maxelem 1024 bucketsize 12 initval 0x2';

const bin = useFakeBin('ipsets');

/** A fake ipset first on PATH: logs each call (argv, then stdin indented), answers `save` with one old entry. */
function fakeIpset(extra = ''): () => string[] {
  const log = join(bin.dir, 'calls');
  bin.install('ipset', [
    `echo "$*" >> ${log}`,
    `case "$1" in restore) sed 's/^/  /' >> ${log};; save) echo "create $2 hash:ip family inet hashsize 1024 maxelem 1024"; echo "add $2 198.51.100.7";; esac`,
    extra,
  ]);
  return () => (existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n') : []);
}

const listed = (text: string): SetHeaders => parseSetHeaders(text);

test('every planned set present with our settings: no ipset program runs', async () => {
  const calls = fakeIpset();
  await ensureIpsets([SSH, WEB], listed(header('f2b-SSH', OURS) + '\n' + header('f2b-WEB', OURS)));
  expect(calls()).toEqual([]);
});

test('one set with other settings: only that one is rebuilt (entries kept), nothing is created', async () => {
  const calls = fakeIpset();
  await ensureIpsets([SSH, WEB], listed(header('f2b-SSH', OLD) + '\n' + header('f2b-WEB', OURS)));
  expect(calls()).toEqual([
    'save f2b-SSH',
    'restore',
    '  create f2b-SSH-new hash:ip family inet maxelem 262144 hashsize 4096 timeout 0',
    '  add f2b-SSH-new 198.51.100.7',
    '  swap f2b-SSH f2b-SSH-new',
    '  destroy f2b-SSH-new',
  ]);
});

test('a missing set is created with one ipset restore -exist; the present one is not sent', async () => {
  const calls = fakeIpset();
  await ensureIpsets([SSH, WEB], listed(header('f2b-SSH', OURS)));
  expect(calls()).toEqual(['restore -exist', '  create f2b-WEB hash:ip family inet maxelem 262144 hashsize 4096 timeout 0']);
});

test('an unknown listing sends every set to ipset restore -exist', async () => {
  const calls = fakeIpset();
  await ensureIpsets([SSH, WEB], undefined);
  expect(calls().filter((c) => !c.startsWith('  '))).toEqual(['restore -exist']);
  expect(calls()).toHaveLength(3);
});

test('a set made with other settings after the listing: read again, rebuilt, created on the second try', async () => {
  // The first restore -exist fails the way ipset does on a clash; the re-read shows the clashing set.
  const calls = fakeIpset([
    `if [ "$1 $2" = "restore -exist" ] && [ ! -e ${bin.dir}/clashed ]; then touch ${bin.dir}/clashed; echo "ipset v7.17: Error in line 1: Set cannot be created: set with the same name already exists" >&2; exit 1; fi`,
    `if [ "$1 $2" = "list -t" ]; then printf '${header('f2b-SSH', OLD).replace(/\n/g, '\\n')}'; fi`,
  ].join('\n'));
  await ensureIpsets([SSH], listed(''));
  expect(calls().filter((c) => !c.startsWith('  '))).toEqual(['restore -exist', 'list -t', 'save f2b-SSH', 'restore', 'restore -exist']);
});

test('a failing create is an error that says nothing was changed', async () => {
  fakeIpset('[ "$1" = restore ] && { echo "Kernel error received: Operation not permitted" >&2; exit 1; }');
  await expect(ensureIpsets([SSH], listed(''))).rejects.toThrow(/creating the ban sets failed, nothing was changed: .*Operation not permitted/);
});
