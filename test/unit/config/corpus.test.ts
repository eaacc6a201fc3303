/**
 * The bad-config corpus: every file in corpus/ must be refused with exit code 6 and a message that names the line,
 * the key (when there is one) and what was expected. Each file says so in its first line:
 *   # expect: line=N [key=KEY] /regex for the expectation/
 * File-level failures (size, type, symlinks) are made here, since git cannot hold them.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const CORPUS = new URL('./corpus/', import.meta.url).pathname;
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.conf')).sort();

interface Expectation { line: number; key?: string; message: RegExp }
function expectation(file: string): Expectation {
  const first = readFileSync(join(CORPUS, file), 'latin1').split('\n')[0]!;
  const m = /^# expect: line=(\d+)(?: key=(\S+))? \/(.*)\/$/.exec(first);
  if (!m) throw new Error(`${file}: first line must be "# expect: line=N [key=KEY] /regex/"`);
  return { line: Number(m[1]), key: m[2], message: new RegExp(m[3]!) };
}

function refusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('the config was accepted');
}

test('the corpus holds at least 40 bad configs', () => {
  expect(files.length).toBeGreaterThanOrEqual(40);
});

describe.each(files)('%s', (file) => {
  test('is refused with exit 6, naming line, key and expectation', () => {
    const want = expectation(file);
    const err = refusal(() => loadConfig(join(CORPUS, file), {}));
    expect(err.exitCode).toBe(6);
    const problem = err.problems.find((p) => p.line === want.line && want.message.test(p.message));
    expect(problem, `${file}: ${err.message}`).toBeDefined();
    if (want.key) expect(problem!.key).toBe(want.key);
    expect(err.message).toContain(`${join(CORPUS, file)}:line ${want.line}: ${want.key ? `${want.key}: ` : ''}`);
  });
});

describe('file-level problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-corpus-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const refused = (path: string, message: RegExp) => {
    const err = refusal(() => loadConfig(path, {}));
    expect(err.exitCode).toBe(6);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(path)).toBe(true);
  };

  test('a huge file is refused before it is parsed', () => {
    const path = join(dir, 'huge.conf');
    writeFileSync(path, `# padding\n${'#'.repeat(2 * 1024 * 1024)}\nSERVICES=ssh\n`);
    refused(path, /is \d+ bytes; the limit is 1048576/);
  });

  test('a missing named file, a dangling symlink and a symlink loop', () => {
    refused(join(dir, 'absent.conf'), /config file not found/);
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.conf'));
    refused(join(dir, 'dangling.conf'), /config file not found/);
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
    refused(join(dir, 'loop-a'), /cannot read config file \(ELOOP\)/);
  });

  test('a directory, a device and a FIFO are not config files (and reading never blocks)', async () => {
    mkdirSync(join(dir, 'a-dir'));
    refused(join(dir, 'a-dir'), /is not a regular file/);
    refused('/dev/zero', /is not a regular file/);
    await execa('mkfifo', [join(dir, 'fifo')]);
    refused(join(dir, 'fifo'), /is not a regular file/);
  });

  test('every line that is not UTF-8 is named, with its key when the key itself is readable', () => {
    const path = join(dir, 'latin1.conf');
    writeFileSync(path, Buffer.concat([
      Buffer.from('SERVICES=ssh\nTRUSTED_NETS=192.0.2.0/24 # caf'), Buffer.from([0xe9]),
      Buffer.from('\nexport  SERVICE_SSH_LOG_PREFIX = "x'), Buffer.from([0xff, 0xfe]), Buffer.from('"\nSERV'), Buffer.from([0xc9]),
      Buffer.from('CES=ssh\n'),
    ]));
    const err = refusal(() => loadConfig(path, {}));
    expect(err.exitCode).toBe(6);
    expect(err.problems).toEqual([
      { line: 2, key: 'TRUSTED_NETS', message: 'is not valid UTF-8 text' },
      { line: 3, key: 'SERVICE_SSH_LOG_PREFIX', message: 'is not valid UTF-8 text' },
      { line: 4, message: 'is not valid UTF-8 text' },
    ]);
    expect(err.message).toContain(`${path}:line 2: TRUSTED_NETS: is not valid UTF-8 text`);
  });

  test('a leading byte-order mark is no part of the first key; an encoded surrogate or an overlong form is not UTF-8', () => {
    const path = join(dir, 'bom.conf');
    writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('SERVICES=ssh\n')]));
    expect(loadConfig(path, {}).config.services.map((s) => s.name)).toEqual(['ssh']);
    for (const bad of [[0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      writeFileSync(path, Buffer.concat([Buffer.from('SERVICES=ssh\nSNAT_TO="'), Buffer.from(bad), Buffer.from('"\n')]));
      expect(refusal(() => loadConfig(path, {})).problems).toEqual([{ line: 2, key: 'SNAT_TO', message: 'is not valid UTF-8 text' }]);
    }
  });

  test('a symlink to a good file is followed (admins keep configs in /etc/tsfirewall/ and link them)', () => {
    writeFileSync(join(dir, 'real.conf'), 'SERVICES=ssh\n');
    symlinkSync(join(dir, 'real.conf'), join(dir, 'linked.conf'));
    expect(loadConfig(join(dir, 'linked.conf'), {}).config.services.map((s) => s.name)).toEqual(['ssh']);
  });

  test('with no file at the default path the embedded default applies; TSFIREWALL_CONFIG names a file that must exist', () => {
    refused(join(dir, 'env-named.conf'), /config file not found/);
    expect(() => loadConfig(undefined, { TSFIREWALL_CONFIG: join(dir, 'env-named.conf') })).toThrow(/config file not found/);
  });
});

describe('unknown keys warn with a did-you-mean, and do not stop the firewall', () => {
  test.each([
    ['SERVCES=ssh', 'SERVICES'],
    ['TRUSTED_NET=192.0.2.0/24', 'TRUSTED_NETS'],
    ['SERVICE_SSH_PORT=2222', 'SERVICE_SSH_PORTS'],
    ['ALLOW_PINGS=yes', 'ALLOW_PING'],
    ['services=ssh', 'SERVICES'],
  ])('%s', (line, suggestion) => {
    const { warnings } = parseConfig(`# a comment\n${line}\n`, '/etc/default/tsfirewall');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBe(`/etc/default/tsfirewall:2: unknown key ${line.split('=')[0]}; ignored (did you mean ${suggestion}?)`);
  });
});

test('every problem is reported at once, not just the first', () => {
  const err = refusal(() => parseConfig('SERVICE_SSH_PORTS=0\nIPV6=maybe\nTRUSTED_NETS=1.2.3.4/40\n', 'x'));
  expect(err.problems.map((p) => p.key)).toEqual(expect.arrayContaining(['SERVICE_SSH_PORTS', 'IPV6', 'TRUSTED_NETS']));
});
