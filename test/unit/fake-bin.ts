/**
 * Fake programs for the unit tests that drive src/ against a stand-in ipset, iptables or modprobe: a temp dir per
 * test, first on PATH, holding `#!/bin/sh` scripts; removed, and PATH restored, after each test. Registered on the
 * calling file's hooks, so every such file sets up and cleans up the same way.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export interface FakeBin {
  /** This test's directory: the fakes live here, and so can their call logs and flag files. */
  readonly dir: string;
  /** Writes an executable sh script `name` of these lines; returns its path. */
  install(name: string, lines: string | readonly string[]): string;
}

export function useFakeBin(prefix: string): FakeBin {
  const savedPath = process.env.PATH;
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `tsfw-${prefix}-`));
    process.env.PATH = `${dir}:${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() { return dir; },
    install(name, lines) {
      const path = join(dir, name);
      writeFileSync(path, ['#!/bin/sh', ...(typeof lines === 'string' ? [lines] : lines)].join('\n') + '\n');
      chmodSync(path, 0o755);
      return path;
    },
  };
}
