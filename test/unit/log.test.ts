/** Journal priority prefixes only when stderr is the journal stream itself, not merely under a unit's environment. */
import { expect, test } from 'vitest';
import { isJournalStream } from '../../src/log.js';

test('JOURNAL_STREAM counts only when it names this stderr (device:inode)', () => {
  const stderr = () => ({ dev: 64769, ino: 123456 });
  expect(isJournalStream('64769:123456', stderr)).toBe(true);
  // Inherited by a child whose stderr is a pipe to its parent (the watcher's reloads): another inode.
  expect(isJournalStream('64769:999', stderr)).toBe(false);
  expect(isJournalStream(undefined, stderr)).toBe(false);
  expect(isJournalStream('64769:123456', () => { throw new Error('EBADF'); })).toBe(false);
});
