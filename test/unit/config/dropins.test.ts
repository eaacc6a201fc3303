/**
 * Drop-ins: FILE.d/*.conf read in lexical order after FILE, a later file winning, every problem named with the file
 * and line that made it; raw snippets parsed line by line; the same owner and mode rules as the main config. Real
 * files in a private temp dir.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { dropInDir } from '../../../src/config/file.js';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

let base: string;
let main: string;
let dir: string;
const write = (name: string, text: string, mode = 0o644) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
};
const failure = (): ConfigError => {
  try {
    loadConfig(main);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsfw-dropins-'));
  chmodSync(base, 0o755);
  main = join(base, 'tsfirewall');
  writeFileSync(main, 'SERVICES=ssh web\nALLOW_PING=yes\n');
  chmodSync(main, 0o644);
  dir = `${main}.d`;
  mkdirSync(dir);
  chmodSync(dir, 0o755);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('where the drop-ins are', () => {
  test('/etc/tsfirewall.d for the default config, FILE.d beside a named one', () => {
    expect(dropInDir(undefined, {})).toBe('/etc/tsfirewall.d');
    expect(dropInDir('/srv/fw.conf', {})).toBe('/srv/fw.conf.d');
    expect(dropInDir(undefined, { TSFIREWALL_CONFIG: '/srv/x' })).toBe('/srv/x.d');
  });

  test('no directory, no drop-ins: the main file alone', () => {
    rmSync(dir, { recursive: true });
    expect(loadConfig(main).config.services.map((s) => s.name)).toEqual(['ssh', 'web']);
  });
});

describe('*.conf', () => {
  test('read in lexical order after the main file; the last file to set a key wins', () => {
    write('50-b.conf', 'SERVICES=ssh\nLOG_DROPPED=yes\n');
    write('10-a.conf', 'SERVICES=ssh ftp\nTRUSTED_NETS=203.0.113.0/24\n');
    write('90-c.conf', 'LOG_DROPPED=no\n');
    write('README', 'not read: no .conf');
    write('.hidden.conf', 'SERVICES=bogus');
    const loaded = loadConfig(main);
    expect(loaded.config.services.map((s) => s.name)).toEqual(['ssh']);
    expect(loaded.config.trustedNets).toEqual(['203.0.113.0/24']);
    expect(loaded.config.allowPing).toBe(true);
    expect(loaded.config.logDropped).toBeUndefined();
    expect(loaded.origins.get('SERVICES')).toEqual([
      { file: main, line: 1 }, { file: join(dir, '10-a.conf'), line: 1 }, { file: join(dir, '50-b.conf'), line: 1 },
    ]);
    expect(loaded.origins.get('LOG_DROPPED')!.at(-1)).toEqual({ file: join(dir, '90-c.conf'), line: 1 });
  });

  test('a bad value is named with the drop-in and line that set it', () => {
    write('20-x.conf', '# a comment\nTRUSTED_NETS=10.0.0.300/8\n');
    expect(failure().message).toBe(`${join(dir, '20-x.conf')}:line 2: TRUSTED_NETS: ${failure().problems[0]!.message}`);
  });

  test('a key set twice in one drop-in is still a slip; across files it is an override', () => {
    write('20-x.conf', 'ALLOW_PING=no\nALLOW_PING=yes\n');
    expect(failure().message).toContain(`${join(dir, '20-x.conf')}:line 2: ALLOW_PING: set twice (first on line 1)`);
  });

  test('unknown keys in a drop-in are warned about with its file and line', () => {
    write('20-x.conf', '\nALLOW_PONG=yes\n');
    expect(loadConfig(main).warnings.join('\n')).toContain(`${join(dir, '20-x.conf')}:2: unknown key ALLOW_PONG`);
  });

  test.skipIf(process.geteuid?.() !== 0)('the same owner and mode rules as the main config: a file, or the directory', () => {
    const loose = write('20-x.conf', 'ALLOW_PING=no\n', 0o666);
    expect(failure().message).toContain(`config file ${loose} is writable by group and others (mode 0666)`);
    chmodSync(loose, 0o644);
    chownSync(loose, 54321, 0);
    expect(failure().message).toContain(`config file ${loose} is owned by uid 54321, not root`);
    chownSync(loose, 0, 0);
    chmodSync(dir, 0o777);
    expect(failure().message).toContain(`directory ${dir}, which holds the config file, is writable by group and others`);
  });

  test('a directory or a FIFO named like a drop-in is refused', () => {
    mkdirSync(join(dir, '30-dir.conf'));
    expect(failure().message).toContain(`${join(dir, '30-dir.conf')}: is not a regular file`);
  });
});

describe('raw snippets', () => {
  test('are read with their point and language, in lexical order', () => {
    write('20-b.after.nft', 'chain input {\n\tudp dport 5353 accept\n}\n');
    write('10-a.before.rules', '# web\n-A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    write('10-a.before.rules6', '-A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    write('30-c.nat.nft', 'chain prerouting {\n\ttcp dport 8081 redirect to :80\n}\n');
    const { snippets } = loadConfig(main).config;
    expect(snippets.map((s) => [s.name, s.point, s.syntax, s.family])).toEqual([
      ['10-a.before.rules', 'before', 'iptables', 'ipv4'], ['10-a.before.rules6', 'before', 'iptables', 'ipv6'],
      ['20-b.after.nft', 'after', 'nft', undefined], ['30-c.nat.nft', 'nat', 'nft', undefined],
    ]);
    expect(snippets[0]!.rules).toEqual([{ chain: 'INPUT', text: '-p tcp --dport 8080 -j ACCEPT', line: 2 }]);
    expect(snippets[3]!.rules).toEqual([{ chain: 'PREROUTING', text: 'tcp dport 8081 redirect to :80', line: 2 }]);
  });

  test('a snippet without a point in its name is refused', () => {
    write('50-web.nft', 'chain input {\n}\n');
    expect(failure().message).toContain(`${join(dir, '50-web.nft')}: a raw snippet is named NAME.POINT.EXT`);
  });

  test.each([
    ['x.before.rules', '-I INPUT 1 -j ACCEPT', 1, 'expected "-A CHAIN rule"'],
    ['x.before.rules', '-A PREROUTING -j ACCEPT', 1, 'chain PREROUTING is not at this point; use one of INPUT, FORWARD, OUTPUT'],
    ['x.nat.rules', '-A INPUT -p tcp -j DNAT --to-destination 198.51.100.20', 1, null],
    ['x.before.rules', '-A INPUT -p tcp -j DOCKER-USER', 1, 'never to a chain'],
    ['x.before.rules', '-A INPUT -p tcp -g tsfw-input', 1, 'cannot go to a chain'],
    ['x.before.rules', '-A INPUT -p tcp -j ACCEPT -A INPUT -j DROP', 1, '-A starts another command'],
    ['x.before.rules', '-A INPUT -m comment --comment "open -j ACCEPT', 1, 'a quote is not closed'],
    ['x.before.nft', 'tcp dport 22 accept', 1, 'a rule outside a "chain input { ... }" block'],
    ['x.before.nft', 'chain prerouting {\n}', 1, 'chain prerouting is not at this point; use one of input, forward, output'],
    ['x.before.nft', 'chain input {\n\ttcp dport 22 accept; flush ruleset\n}', 2, '";" is not allowed'],
    ['x.before.nft', 'chain input {\n\ttcp dport 22 accept # open\n}', 2, '"#" is not allowed'],
    ['x.before.nft', 'chain input {\n\ttcp dport 22 accept comment "x"\n}', 2, 'put your comment on a # line'],
    ['x.before.nft', 'chain input {\n\ttcp dport 22 jump input4\n}', 2, 'cannot jump to a chain'],
    ['x.before.nft', 'chain input {\n\t} chain input4 { accept\n}', 2, 'the braces on this line do not balance'],
    ['x.before.nft', 'chain input {\n\ttcp dport 22 accept\n', 1, 'chain input is not closed'],
    ['x.raw.nft', 'chain prerouting {\n\ttcp dport 9001 notrack\n}\nchain output {\n\tlog prefix "a;b # c" \n}', 0, null],
  ] as const)('%s %j', (name, text, line, message) => {
    write(name, `${text}\n`);
    if (message === null) {
      expect(loadConfig(main).config.snippets[0]!.rules.length).toBeGreaterThan(0);
      return;
    }
    const refused = failure().message;
    expect(refused).toContain(`${join(dir, name)}:line ${line}: `);
    expect(refused).toContain(message);
  });
});
