/** Kernel modules are a warning, never a failure: missing modprobe, failing modprobe, already built in. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, expect, test } from 'vitest';
import { loadModules } from '../../../src/apply/modules.js';
import { which } from '../../../src/exec/which.js';
import { useFakeBin } from '../fake-bin.js';

const bin = useFakeBin('mod');
let roots: { sys: string; lib: string };
beforeEach(() => {
  roots = { sys: join(bin.dir, 'sys'), lib: join(bin.dir, 'lib') };
  mkdirSync(roots.sys);
  mkdirSync(roots.lib);
});

function fakeModprobe(body: string): string {
  bin.install('modprobe', [`echo "$@" >> ${join(bin.dir, 'calls')}`, body]);
  return join(bin.dir, 'calls');
}

test('a failing modprobe gives one warning per module, after trying the old names too', async () => {
  const calls = fakeModprobe('exit 1');
  const warnings = await loadModules(['nf_conntrack_ftp', 'nf_nat'], roots);
  expect(warnings).toEqual([
    'module nf_conntrack_ftp could not be loaded (modprobe failed); carrying on without it',
    'module nf_nat could not be loaded (modprobe failed); carrying on without it',
  ]);
  expect(readFileSync(calls, 'utf8')).toBe('-q -- nf_conntrack_ftp\n-q -- ip_conntrack_ftp\n-q -- nf_nat\n-q -- ip_nat\n-q -- iptable_nat\n');
});

test('a module name is never read as an option: "--" ends modprobe\'s options before it', async () => {
  const argv = join(bin.dir, 'argv');
  // One line per argument, so the test sees the argv itself, not a shell's word splitting of it.
  bin.install('modprobe', [`for a in "$@"; do printf '%s\\n' "$a"; done >> ${argv}`, 'exit 1']);
  await loadModules(['-v'], roots);
  expect(readFileSync(argv, 'utf8').split('\n')).toEqual(['-q', '--', '-v', '']);
});

test('a module already present (built in or loaded, under either name) is not probed', async () => {
  const calls = fakeModprobe('exit 1');
  mkdirSync(join(roots.sys, 'ip_conntrack_ftp'));
  mkdirSync(join(roots.sys, 'nf_nat'));
  expect(await loadModules(['nf_conntrack_ftp', 'nf_nat'], roots)).toEqual([]);
  expect(() => readFileSync(calls)).toThrow();
});

test('a kernel without a module tree is monolithic: nothing to load, no warning', async () => {
  fakeModprobe('exit 1');
  expect(await loadModules(['nf_nat'], { sys: roots.sys, lib: join(bin.dir, 'none') })).toEqual([]);
});

test.skipIf(which('modprobe') !== undefined)('no modprobe at all: a warning, not a failure', async () => {
  process.env.PATH = join(bin.dir, 'empty');
  expect(await loadModules(['nf_nat'], roots)).toEqual(['module nf_nat is not loaded and modprobe is not installed; carrying on without it']);
});
