/**
 * Issue 5, bad input through the real CLI in a namespace: a sample of the corpus (test/unit/config/corpus) plus
 * file-level cases is refused by start/reload/restart/check/show with exit 6 and a message naming line and key,
 * and the loaded ruleset is untouched. `stop` opens the host whatever state the config is in, and on iptables even
 * when iptables-restore itself fails. On iptables-nft and nftables: config refusal is above the backend, so legacy
 * adds nothing.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createLab, type Host, type Lab } from '../harness/netns.js';
import { isIptables, useCliCopy, type BackendName } from './helpers.js';
import { isOpen, kernelState, runCli, useScratch } from './safety-kit.js';

const CORPUS = new URL('../unit/config/corpus/', import.meta.url).pathname;
const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();

describe.each(['iptables-nft', 'nftables'] as BackendName[])('bad input with %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let before: string;
  const run = (args: string[], config: string, fakeBin?: string) => runCli(cli.path, fw, scratch, args, { backend, config, fakeBin });

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }]);
    fw = lab.hosts.fw!;
  });
  afterAll(async () => { await lab?.destroy(); });
  beforeEach(async () => {
    const r = await run(['restart'], configs.write('FAIL2BAN=no\n'));
    expect(r.exitCode, r.stderr).toBe(0);
    before = await kernelState(fw, backend);
  });

  describe('refused with exit 6, nothing applied', () => {
    test.each([
      ['02-cidr-prefix-33.conf', 'start', /:line 3: TRUSTED_NETS: expected an IP address or network/],
      ['16-port-65536.conf', 'reload', /:line 2: SERVICE_SSH_PORTS: expected a port 1-65535/],
      ['23-service-unknown.conf', 'restart', /:line 2: SERVICES: service "gopher" is not built in/],
      ['38-key-duplicate.conf', 'force-reload', /:line 4: SERVICES: set twice \(first on line 2\)/],
      ['40-shell-command-substitution.conf', 'start', /:line 2: INTERFACE: expected an interface name/],
      ['48-newline-in-quoted-value.conf', 'reload', /:line 2: SERVICE_SSH_LOG_PREFIX: value contains a newline/],
      ['55-non-utf8-value.conf', 'start', /:line 2: SERVICES: is not valid UTF-8 text/],
      ['27-proto-empty.conf', 'check', /:line 2: SERVICE_SSH_PROTO: expected at least one protocol/],
      ['14-service-from-empty.conf', 'show', /:line 2: SERVICE_SSH_FROM: expected at least one network, or "any"/],
      ['60-cidr-ipv6-zone-index.conf', 'check', /:line 3: TRUSTED_NETS: .*zone index/],
    ])('%s (%s)', async (file, verb, message) => {
      const r = await run([verb], join(CORPUS, file));
      expect(r.exitCode, r.stderr).toBe(6);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(await kernelState(fw, backend)).toBe(before);
      expect(scratch.leftovers()).toEqual([]);
    });

    test('a huge file and a missing one', async () => {
      const huge = join(configs.dir, 'huge.conf');
      writeFileSync(huge, `SERVICES=ssh\n${'#'.repeat(1024 * 1024 + 10)}\n`);
      const r = await run(['start'], huge);
      expect(r.exitCode).toBe(6);
      expect(r.stderr).toMatch(/is \d+ bytes; the limit is 1048576/);
      const missing = await run(['reload'], join(configs.dir, 'nope.conf'));
      expect(missing.exitCode).toBe(6);
      expect(missing.stderr).toMatch(/config file not found/);
      expect(await kernelState(fw, backend)).toBe(before);
    });

    test('a config file others can write is not obeyed, and the message says how to fix it', async () => {
      const loose = configs.write('FAIL2BAN=no\nTRUSTED_NETS=0.0.0.0/0\n');
      chmodSync(loose, 0o666);
      const r = await run(['reload'], loose);
      expect(r.exitCode, r.stderr).toBe(6);
      expect(r.stderr).toContain(`config file ${loose} is writable by group and others (mode 0666)`);
      expect(r.stderr).toContain(`fix: chmod go-w ${loose}`);
      expect(await kernelState(fw, backend)).toBe(before);
    });
  });

  describe('stop always opens the host', () => {
    test.each([
      ['a config with errors', () => join(CORPUS, '01-cidr-octet-300.conf')],
      ['a config that is not UTF-8', () => join(CORPUS, '55-non-utf8-value.conf')],
      ['a missing config', () => join(configs.dir, 'absent.conf')],
    ])('with %s', async (_name, config) => {
      const r = await run(['stop'], config());
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/config unusable .*; opening the firewall anyway/);
      expect(isOpen(backend, await kernelState(fw, backend))).toBe(true);
    });

    // iptables only: the rule-by-rule fallback is for iptables-restore, whose --noflush removal can fail line by line;
    // nftables' stop is one `delete table`, which has no smaller steps to fall back to.
    test.skipIf(!isIptables(backend))('even when iptables-restore fails: rule by rule', async () => {
      const fakeBin = scratch.fakes({
        'iptables-nft-restore': 'cat >/dev/null; echo "injected failure" >&2; exit 1',
        'ip6tables-nft-restore': 'cat >/dev/null; echo "injected failure" >&2; exit 1',
      });
      const r = await run(['stop'], configs.write('FAIL2BAN=no\n'), fakeBin);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/removing ipv4 rule by rule/);
      expect(isOpen(backend, await kernelState(fw, backend))).toBe(true);
    });
  });
});
