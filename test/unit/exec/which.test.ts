import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { which } from '../../../src/exec/which.js';

describe('which', () => {
  let root = '';
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'tsfw-which-')); });
  afterEach(() => { rmSync(root, { recursive: true, force: true }); });
  const program = (dir: string, name: string, mode: number) => {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, name), '#!/bin/sh\n');
    chmodSync(join(root, dir, name), mode);
  };

  test('the first executable on PATH wins, missing and non-executable entries are passed over', () => {
    program('a', 'tsfw-prog', 0o644);
    program('c', 'tsfw-prog', 0o755);
    program('d', 'tsfw-prog', 0o755);
    const path = [join(root, 'a'), join(root, 'missing'), '', join(root, 'c'), join(root, 'd')].join(':');
    // root may execute a 0644 file per access(2) only when some x bit is set: it is skipped for everyone.
    expect(which('tsfw-prog', path)).toBe(join(root, 'c', 'tsfw-prog'));
  });

  test('a program on no directory is undefined, also below a file where a directory was expected', () => {
    program('a', 'file', 0o644);
    expect(which('tsfw-no-such-program', `${join(root, 'a', 'file')}:${join(root, 'missing')}`)).toBeUndefined();
  });
});
