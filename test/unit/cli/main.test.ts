/**
 * The command line's refusals, in process: each bad combination exits 2 with a message that names it, before any
 * config is read or program run (the config path given does not even exist).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

let stderr: string;
beforeEach(() => {
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr += String(chunk); return true; });
});
afterEach(() => { vi.restoreAllMocks(); });

const NO_CONFIG = ['--config', '/nonexistent/tsfirewall-test.conf'];

describe('usage errors exit 2 and name the problem', () => {
  test.each([
    [['unban'], /unban needs IP addresses or --all \(not both\)/],
    [['unban', '--all', '192.0.2.1'], /unban needs IP addresses or --all \(not both\)/],
    [['ban'], /ban needs at least one IP address/],
    [['ban', '192.0.2.300'], /not a host address or a network of at most 65536 addresses: "192\.0\.2\.300"; nothing was banned/],
    [['reload', '--early'], /--early goes with start, show, check, not reload/],
    [['status', '--early'], /--early goes with start, show, check, not status/],
    [['start', '--if-changed'], /--if-changed goes with reload, not start/],
    [['start', '--confirm', '0'], /--confirm expects a number of seconds from 1 to 3600, got "0"/],
    [['frob'], /unknown command "frob"/],
    [[], /no command given/],
    [['start', '--no-such-option'], /Unknown option '--no-such-option'/],
  ])('%j', async (args, message) => {
    expect(await main([...NO_CONFIG, ...args])).toBe(2);
    expect(stderr).toMatch(message);
  });
});
