/**
 * The loaded-ruleset record and the drift status reports from it: kept per network namespace in the run
 * directory, unreadable or foreign records are ignored, and the drift names the address when the address moved.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import { netnsTag } from '../../../src/state/dirs.js';
import { driftOf, forgetLoaded, loadedHost, loadedPlan, readLoaded, recordLoaded, recordOf } from '../../../src/state/loaded.js';
import { describeDrift } from '../../../src/status/drift.js';
import { SEED_HOST, config } from '../fixtures.js';

let base: string;
const saved = process.env.TSFIREWALL_RUN_DIR;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsfw-loaded-'));
  process.env.TSFIREWALL_RUN_DIR = join(base, 'run');
});
afterEach(() => {
  if (saved === undefined) delete process.env.TSFIREWALL_RUN_DIR; else process.env.TSFIREWALL_RUN_DIR = saved;
  rmSync(base, { recursive: true, force: true });
});

const now = (text = '', host = SEED_HOST) => recordOf(host, compile(config(text), host));

describe('the record start leaves', () => {
  test('reads back as written, and is gone after forget', () => {
    const record = { addresses: ['192.0.2.10', '2001:db8::10'], rules: now().rules };
    expect(recordLoaded(record)).toBe(true);
    expect(readLoaded()).toEqual(record);
    forgetLoaded();
    expect(readLoaded()).toBeUndefined();
  });

  test('with the settings and the prefix it was loaded with: diff compiles against them', () => {
    const plan = compile(config('BAN_MODE=chain'), SEED_HOST);
    const record = recordOf(SEED_HOST, plan, { BAN_MODE: 'chain', SERVICE_SSH_PORTS: '2222' });
    expect(recordLoaded(record)).toBe(true);
    const back = readLoaded()!;
    expect(back).toEqual(record);
    expect(loadedHost(back)).toEqual({ iface: '', myip: '192.0.2.10', prefix: 24, myip6: ['2001:db8::10'], locals: ['192.0.2.10', '2001:db8::10'], warnings: [] });
    expect(loadedPlan(back)).toEqual({ rulesets: plan.rulesets, ipsets: plan.ipsets, banChains: ['fail2ban-SSH'] });
    expect(loadedHost(recordOf({ boot: true }, plan))).toEqual({ boot: true });
    expect(loadedHost({ addresses: ['192.0.2.10'], rules: back.rules })).toBeUndefined();
  });

  test('a damaged record reads as none, so status only loses its drift check', () => {
    recordLoaded({ rules: 'x' });
    for (const text of ['{not json', '{"rules": 5}', 'null']) {
      writeFileSync(join(base, 'run', `loaded.${netnsTag()}.json`), text);
      expect(readLoaded()).toBeUndefined();
    }
  });

  test('a run directory that cannot be used is reported, not thrown', () => {
    writeFileSync(join(base, 'run'), 'a file where the directory should be');
    expect(recordLoaded({ rules: 'x' })).toBe(false);
  });
});

describe('drift between the record and what start would load now', () => {
  const loaded = now();

  test('none when the same config and address compile the same rules', () => {
    expect(driftOf(loaded, now(), 'eth0')).toBeUndefined();
  });

  test('an edited config', () => {
    const drift = driftOf(loaded, now('SERVICES=ssh smtp'), 'eth0');
    expect(drift).toEqual({ reason: 'config' });
    expect(describeDrift(drift!)).toBe('pending: the config changed since the rules were loaded; "tsfirewall reload" applies it ("tsfirewall show" prints the new rules)');
  });

  test('a moved address (DHCP) is named, old and new', () => {
    const moved = { ...SEED_HOST, myip: '192.0.2.11' };
    const drift = driftOf(loaded, now('', moved), 'eth0');
    expect(drift).toEqual({ reason: 'address', iface: 'eth0', loadedFor: ['192.0.2.10', '2001:db8::10'], now: ['192.0.2.11', '2001:db8::10'] });
    expect(describeDrift(drift!)).toMatch(/^pending: eth0's address is now 192\.0\.2\.11, 2001:db8::10, the rules were loaded for 192\.0\.2\.10, 2001:db8::10;/);
  });

  test('the same address with other rules is the config, whatever the record of a boot-time ruleset says', () => {
    expect(driftOf({ rules: 'boot' }, now(), 'eth0')).toEqual({ reason: 'config' });
  });

  test('rules another backend loaded (BACKEND, or what auto picks, changed since): the reload moves them', () => {
    expect(describeDrift({ reason: 'backend', loadedBy: 'iptables-nft', now: 'nftables' })).toBe('pending: the rules were loaded through ' +
      'iptables-nft, BACKEND now picks nftables (their bans move over with them); "tsfirewall reload" applies it ("tsfirewall show" prints the new rules)');
  });
});
