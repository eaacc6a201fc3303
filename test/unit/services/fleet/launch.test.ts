/**
 * The fleet service's V8 flags: tsfirewall-fleet.service's NODE_OPTIONS and the launchers (/usr/sbin/tsfirewall,
 * bin/tsfirewall) give the same ones to `tsfirewall fleet`, and the cap they set holds in a real node.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = join(__dirname, '../../../..');
const unitOptions = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(ROOT, 'systemd/tsfirewall-fleet.service'), 'utf8'))?.[1] ?? '';

/** Stands in for the bundle: says which flags node was given, and how large the young generation grew under churn. */
const REPORT = `const v8 = require('v8');
let keep = [];
for (let r = 0; r < 30; r++) { keep.push(Array.from({ length: 50000 }, (_, i) => ({ i, s: 'x' + i }))); if (keep.length > 3) keep.shift(); }
const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
process.stdout.write(JSON.stringify({ execArgv: process.execArgv, args: process.argv.slice(2), youngMB: young / 1048576 }));
`;

const dir = mkdtempSync(join(tmpdir(), 'tsfw-launch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'lib'));
mkdirSync(join(dir, 'bin'));
mkdirSync(join(dir, 'dist'));
writeFileSync(join(dir, 'lib/tsfirewall.cjs'), REPORT);
writeFileSync(join(dir, 'dist/tsfirewall.cjs'), REPORT);
copyFileSync(join(ROOT, 'bin/tsfirewall'), join(dir, 'bin/tsfirewall'));

interface Report { execArgv: string[]; args: string[]; youngMB: number }
const launchers: [string, (args: string[]) => Report][] = [
  ['/usr/sbin/tsfirewall', (args) => JSON.parse(execFileSync('sh', [join(ROOT, 'packaging/tsfirewall.sh'), ...args], { encoding: 'utf8', env: { ...process.env, TSFIREWALL_LIB: join(dir, 'lib'), NODE_OPTIONS: '' } }))],
  ['bin/tsfirewall', (args) => JSON.parse(execFileSync('sh', [join(dir, 'bin/tsfirewall'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }))],
];

describe('the fleet service\'s V8 flags', () => {
  test('the unit caps the young generation, and this node takes that in NODE_OPTIONS', () => {
    expect(unitOptions).toMatch(/^--max-semi-space-size=\d+$/);
    const r = JSON.parse(execFileSync(process.execPath, [join(dir, 'lib/tsfirewall.cjs')], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: unitOptions } })) as Report;
    expect(r.youngMB).toBeLessThanOrEqual(2 * Number(unitOptions.split('=')[1]));
  });

  test.each(launchers)('%s gives a plain `fleet` the unit\'s flags, and nothing to other verbs', (_, launch) => {
    const fleet = launch(['fleet']);
    expect(fleet.execArgv).toEqual(unitOptions.split(' '));
    expect(fleet.args).toEqual(['fleet']);
    expect(fleet.youngMB).toBeLessThanOrEqual(2 * Number(unitOptions.split('=')[1]));
    expect(launch(['fleet', 'status']).execArgv).toEqual([]);
    expect(launch(['status']).execArgv).toEqual([]);
  });
});
