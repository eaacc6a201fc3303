/**
 * The default ruleset rendered for nftables, loaded with nft in a lab namespace and probed with real connections:
 * services and policy, the hit-rate limiter (three new SSH connections per source, then held), bans in the set,
 * and passive FTP through the helper. The lab's firewall is its own namespace, never this machine's.
 */
import { execa } from 'execa';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nftBanStore } from '../../src/backend/nftables/bans.js';
import { parseTable } from '../../src/backend/nftables/parse.js';
import { renderDocument } from '../../src/backend/nftables/render.js';
import { compile } from '../../src/compile/plan.js';
import { createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { SEED_HOST, config } from '../unit/fixtures.js';
import { connects, ftpPassive, listenFtp } from './helpers.js';

const MYIP = SEED_HOST.myip;
const FTP_DATA_PORT = 50000;
const SSH = { family: 'ipv4', name: 'f2b-SSH', kind: 'set' } as const;

describe.sequential('the default ruleset on nftables', () => {
  let lab: Lab;
  let h: Record<'fw' | 'lan' | 'out' | 'friend', Host>;
  const stops: (() => void)[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-nftp-'));
  const live = async () => parseTable((await h.fw.exec(['nft', '-j', 'list', 'table', 'inet', 'tsfirewall'])).stdout);

  beforeAll(async () => {
    lab = await createLab([
      { name: 'fw', segment: 'lan', octet: 10 },
      { name: 'lan', segment: 'lan', octet: 20 },
      { name: 'out', segment: 'wan', octet: 20 },
      { name: 'friend', segment: 'friends', octet: 20 },
    ]);
    h = lab.hosts as typeof h;
    stops.push(await listen(h.fw, [22, 80, 443, 23]));
    stops.push(await listenFtp(h.fw, MYIP, FTP_DATA_PORT));
    const r = await h.fw.exec(['nft', '-f', '-'], { input: renderDocument(compile(config(), SEED_HOST)) });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
  afterAll(async () => {
    for (const stop of stops) stop();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the web service connects from the WAN; a closed port is dropped and counted by the policy rule', async () => {
    expect(await connects(h.out, MYIP, 80)).toBe(true);
    expect(await connects(h.out, MYIP, 23, 1000)).toBe(false);
    const input = (await live()).live.families.get('ipv4')!.chains.find((c) => c.name === 'INPUT')!;
    expect(input.policy).toBe('DROP');
    expect(input.packets).toBeGreaterThan(0);
  });

  test('the LAN is trusted (local subnet) and bypasses the service rules', async () => {
    expect(await connects(h.lan, MYIP, 23)).toBe(true);
  });

  test('passive FTP: the data connection gets in as RELATED through the helper; the data port alone stays closed', async () => {
    expect(await connects(h.out, MYIP, FTP_DATA_PORT, 1000)).toBe(false);
    expect(await ftpPassive(h.out, MYIP, 5000)).toBe(true);
  });

  test('the limiter (3/180): three new SSH connections from one source, the fourth is dropped, and the source stays held', async () => {
    const results: boolean[] = [];
    for (let i = 0; i < 3; i++) results.push(await connects(h.out, MYIP, 22));
    for (let i = 0; i < 2; i++) results.push(await connects(h.out, MYIP, 22, 1000));
    expect(results).toEqual([true, true, true, false, false]);
    const [entry] = (await live()).limiter.SSH!;
    expect(entry).toMatchObject({ src: h.out.ip, hits: 4 });
    expect(entry!.detail).toMatch(/^held, \d+s left$/);
    // Another source has its own window.
    expect(await connects(h.friend, MYIP, 22)).toBe(true);
  });

  test('a ban drops the source on the banned service only, and unbanning lets it back', async () => {
    const nft = join(dir, 'nft');
    writeFileSync(nft, `#!/bin/sh\nexec ip netns exec ${h.fw.ns} nft "$@"\n`);
    chmodSync(nft, 0o755);
    const store = nftBanStore({ nft });
    await store.add(SSH, [h.friend.ip], { timeout: 600 });
    expect(await connects(h.friend, MYIP, 22, 1000)).toBe(false);
    expect(await connects(h.friend, MYIP, 80)).toBe(true);
    const bans = (await live()).live.families.get('ipv4')!.rules.find((r) => r.group === 'bans')!;
    expect(bans.packets).toBeGreaterThan(0);
    await store.remove(SSH, [h.friend.ip]);
    expect(await connects(h.friend, MYIP, 22)).toBe(true);
  });

  test('stop: deleting our table opens everything and leaves no table behind', async () => {
    await h.fw.exec(['nft', '-f', '-'], { input: 'table inet tsfirewall {}\ndelete table inet tsfirewall\n' });
    expect(await connects(h.out, MYIP, 23)).toBe(true);
    expect((await execa('ip', ['netns', 'exec', h.fw.ns, 'nft', 'list', 'tables'])).stdout).toBe('');
  });
});
