/**
 * diff's pure parts on compiled plans: rule-by-rule changes per chain, the causes behind each (a key tried alone,
 * the address), the record's settings read back, and the report's text with and without colour.
 */
import { describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/plan.js';
import { parseSettings } from '../../../src/config/load.js';
import { addressLabels, causesFor, causesOf, changedKeys, effective, type Settings } from '../../../src/diff/causes.js';
import { formatDiff, wantsColour, type DiffReport } from '../../../src/diff/format.js';
import { canonical, diffPlans } from '../../../src/diff/plan-diff.js';
import type { BootHost, HostFacts } from '../../../src/discover/host.js';
import { config, SEED_HOST } from '../fixtures.js';

const plan = (text: string, host: HostFacts | BootHost = SEED_HOST) => compile(config(text), host);
const planOf = (settings: Settings, host: HostFacts | BootHost) => {
  try { return compile({ ...parseSettings(settings).config, banMode: 'ipset' }, host); } catch { return undefined; }
};

describe('diffPlans', () => {
  test('the same plan twice: nothing; a record read back from JSON compares equal', () => {
    expect(diffPlans(plan(''), plan(''))).toEqual([]);
    expect(diffPlans(JSON.parse(JSON.stringify(plan(''))), plan(''))).toEqual([]);
    expect(canonical({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });

  test('a port moved: each rule of the service changes in place, in its own group; the limited accept is one rule', () => {
    const changes = diffPlans(plan(''), plan('SERVICE_SSH_PORTS=2222'));
    expect(changes.map((c) => [c.chain, c.group, c.kind, c.before?.match.dports, c.after?.match.dports])).toEqual([
      ['INPUT', 'bans', 'changed', ['22'], ['2222']],
      ['INPUT', 'services', 'changed', ['22'], ['2222']],
    ]);
    expect(changes[1]!.after!.match.rateLimit).toEqual({ name: 'SSH', hits: 3, seconds: 180 });
  });

  test('added and removed rules, and a chain\'s DROP policy as its last rule', () => {
    const more = diffPlans(plan(''), plan('TRUSTED_NETS=203.0.113.0/24\nALLOW_PING=yes'));
    expect(more.map((c) => [c.group, c.kind, c.after?.match.src?.cidr ?? c.after?.match.icmpType])).toEqual([
      ['friends', 'added', '203.0.113.0/24'], ['icmp', 'added', 'echo-request'],
    ]);
    expect(diffPlans(plan('ALLOW_PING=yes'), plan('')).map((c) => [c.group, c.kind])).toEqual([['icmp', 'removed']]);
    const v6 = diffPlans(plan('IPV6=drop'), plan('IPV6=mirror')).filter((c) => c.family === 'ipv6');
    expect(v6.some((c) => c.chain === 'OUTPUT' && c.group === 'policy' && c.kind === 'removed')).toBe(true);
    expect(diffPlans(plan(''), plan('IPV6=off')).every((c) => c.family === 'ipv6' && c.kind === 'removed')).toBe(true);
  });

  test('from the boot-time ruleset the address-bound rules are added', () => {
    const changes = diffPlans(plan('', { boot: true }), plan(''));
    expect(changes.map((c) => [c.group, c.kind])).toEqual([['antispoof', 'added'], ['friends', 'added'], ['unicast', 'added']]);
  });
});

describe('causes', () => {
  const loaded = { settings: {} as Settings, host: SEED_HOST as HostFacts | BootHost };

  test('a key means its default when the file does not set it', () => {
    expect([effective({}, 'SERVICE_SSH_PORTS'), effective({}, 'ALLOW_PING'), effective({}, 'SERVICE_WEB_PORTS'), effective({}, 'SERVICE_SSH_RATE_LIMIT'),
      effective({}, 'SERVICE_FOO_PORTS'), effective({}, 'NOT_A_KEY'), effective({ ALLOW_PING: ' yes ' }, 'ALLOW_PING')])
      .toEqual(['22', 'no', '80 443', '3/180', '', '', 'yes']);
    expect(changedKeys({ SERVICE_SSH_PORTS: '22', MODULES: 'nf_nat' }, { ALLOW_PING: 'no', MODULES: 'nf_nat' })).toEqual([]);
    expect(changedKeys({}, { SERVICE_SSH_PORTS: '2222' })).toEqual([{ key: 'SERVICE_SSH_PORTS', before: '22', after: '2222' }]);
  });

  test('each difference is put down to the change that alone makes it', () => {
    const now = { settings: { SERVICE_SSH_PORTS: '2222', TRUSTED_NETS: '203.0.113.0/24', SERVICE_SSH_JAIL_BANTIME: '3600' }, host: SEED_HOST };
    const causes = causesOf(loaded, now, planOf);
    expect(causes.map((c) => [c.label, c.changes.length])).toEqual([
      ['SERVICE_SSH_PORTS changed 22 -> 2222', 2], ['TRUSTED_NETS changed (unset) -> 203.0.113.0/24', 1], ['SERVICE_SSH_JAIL_BANTIME changed 600 -> 3600', 0],
    ]);
    const changes = diffPlans(planOf(loaded.settings, loaded.host)!, planOf(now.settings, now.host)!);
    expect(changes.map((c) => [c.group, causesFor(c, causes)])).toEqual([
      ['friends', ['TRUSTED_NETS changed (unset) -> 203.0.113.0/24']],
      ['bans', ['SERVICE_SSH_PORTS changed 22 -> 2222']],
      ['services', ['SERVICE_SSH_PORTS changed 22 -> 2222']],
    ]);
  });

  test('two keys on one rule: each alone touches it, so both are named', () => {
    const now = { settings: { SERVICE_SSH_PORTS: '2222', SERVICE_SSH_RATE_LIMIT: '5/60' }, host: SEED_HOST };
    const causes = causesOf(loaded, now, planOf);
    const update = diffPlans(planOf({}, SEED_HOST)!, planOf(now.settings, SEED_HOST)!).find((c) => c.after?.match.rateLimit !== undefined)!;
    expect(causesFor(update, causes)).toEqual(['SERVICE_SSH_PORTS changed 22 -> 2222', 'SERVICE_SSH_RATE_LIMIT changed 3/180 -> 5/60']);
  });

  test('the address moved (DHCP): MYIP and NETMASK in words, and the rules they make', () => {
    const moved = { ...SEED_HOST, myip: '192.0.2.11', prefix: 16 };
    expect(addressLabels(SEED_HOST, moved)).toEqual(['MYIP 192.0.2.10 -> 192.0.2.11', 'NETMASK 24 -> 16']);
    expect(addressLabels({ boot: true }, SEED_HOST)).toEqual(['MYIP (none yet: boot-time ruleset) -> 192.0.2.10']);
    const causes = causesOf(loaded, { settings: {}, host: moved }, planOf);
    expect(causes.map((c) => [c.label, c.changes.map((x) => x.group)])).toEqual([
      ['MYIP 192.0.2.10 -> 192.0.2.11, NETMASK 24 -> 16', ['antispoof', 'friends', 'unicast']],
    ]);
  });

  test('a key whose change alone gives no valid config changes nothing alone; its rules go to who touches the group', () => {
    const now = { settings: { MYIP: '192.0.2.10', NETMASK: '24' }, host: SEED_HOST };
    expect(causesOf(loaded, now, planOf).map((c) => c.changes.length)).toEqual([0, 0]);
  });
});

describe('the report', () => {
  const report: DiffReport = {
    same: false, backend: 'nftables', loadedBy: 'nftables', notAsLoaded: [], otherChanges: ['SERVICE_SSH_JAIL_BANTIME changed 600 -> 3600'], notes: [],
    causes: ['SERVICE_SSH_PORTS changed 22 -> 2222'],
    changes: [
      { family: 'ipv4', table: 'filter', chain: 'INPUT', group: 'bans', change: 'changed', before: ['tcp dport 22 drop'], after: ['tcp dport 2222 drop'], causes: ['SERVICE_SSH_PORTS changed 22 -> 2222'] },
      { family: 'ipv4', table: 'filter', chain: 'INPUT', group: 'friends', change: 'added', before: null, after: ['ip saddr 203.0.113.0/24 accept'], causes: [] },
      { family: 'ipv4', table: 'filter', chain: 'INPUT', group: 'bans', change: 'removed', before: ['tcp dport 21 drop'], after: null, causes: [] },
    ],
  };

  test('chain by chain, group by group, each entry with its cause', () => {
    expect(formatDiff(report, false)).toBe([
      'tsfirewall diff: 3 differences between the loaded rules and what a reload would load (nftables)',
      'caused by:', '  SERVICE_SSH_PORTS changed 22 -> 2222',
      'changed, but no rule differs:', '  SERVICE_SSH_JAIL_BANTIME changed 600 -> 3600',
      '== IPv4 filter INPUT',
      '-- blockers (bans) (tsfw:bans)',
      '  ~ changed  (SERVICE_SSH_PORTS changed 22 -> 2222)', '      - tcp dport 22 drop', '      + tcp dport 2222 drop',
      '  - removed', '      - tcp dport 21 drop',
      '-- friends (trusted nets) (tsfw:friends)',
      '  + added', '      + ip saddr 203.0.113.0/24 accept',
      '',
    ].join('\n'));
  });

  test('colour only for a terminal without NO_COLOR', () => {
    expect(formatDiff(report, true)).toContain('\x1b[32m+ ip saddr 203.0.113.0/24 accept\x1b[0m');
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
  });

  test('the same rules: one line; a change from outside is listed for reload to put back', () => {
    const same = { ...report, same: true, changes: [], causes: [], otherChanges: [] };
    expect(formatDiff(same, false)).toBe('tsfirewall diff: the loaded rules are what a reload would load (nftables)\n');
    expect(formatDiff({ ...same, same: false, notAsLoaded: ['chain input4: a rule that is not ours: tcp dport 8080 accept'] }, false))
      .toContain('not as loaded (changed from outside; a reload puts it back):\n  chain input4: a rule that is not ours');
  });
});
