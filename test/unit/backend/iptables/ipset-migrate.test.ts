import { describe, expect, test } from 'vitest';
import { migrationScript } from '../../../../src/backend/iptables/ipset-migrate.js';
import { ipsetCreateScript } from '../../../../src/backend/iptables/ipset-text.js';
import type { IpsetSpec } from '../../../../src/model.js';

const SPEC: IpsetSpec = { name: 'f2b-SSH', family: 'inet', type: 'hash:ip', maxelem: 262144 };
const OURS = 'create f2b-SSH hash:ip family inet hashsize 4096 maxelem 262144 timeout 0 bucketsize 12 initval 0x1\n';
const OLD = [
  'create f2b-SSH hash:ip family inet hashsize 1024 maxelem 1024 bucketsize 12 initval 0x2',
  'add f2b-SSH 198.51.100.7',
  'add f2b-SSH 198.51.100.8',
  '',
].join('\n');

describe('migrationScript', () => {
  test('copies every entry into a set with our settings, swaps, and destroys the old one', () => {
    expect(migrationScript(OLD, SPEC, ipsetCreateScript([SPEC]))).toBe([
      'create f2b-SSH-new hash:ip family inet maxelem 262144 hashsize 4096 timeout 0',
      'add f2b-SSH-new 198.51.100.7',
      'add f2b-SSH-new 198.51.100.8',
      'swap f2b-SSH f2b-SSH-new',
      'destroy f2b-SSH-new',
      '',
    ].join('\n'));
  });

  test('entries keep their own timeouts', () => {
    const saved = `${OURS.replace(' maxelem 262144', ' maxelem 65536')}add f2b-SSH 198.51.100.9 timeout 300\n`;
    expect(migrationScript(saved, SPEC, ipsetCreateScript([SPEC]))).toContain('add f2b-SSH-new 198.51.100.9 timeout 300\n');
  });
});
