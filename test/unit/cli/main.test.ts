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
    [['start', '--if-changed'], /--if-changed goes with reload, force-reload, not start/],
    [['start', '--jail', 'ssh'], /--jail goes with ban, unban, not start/],
    [['status', '--textfile', '/tmp/x.prom'], /--textfile goes with metrics, not status/],
    [['help', 'frob'], /no command "frob" \(help lists them\)/],
    [['frob', '--help'], /unknown command "frob"/],
    [['start', '--confirm', '0'], /--confirm expects a number of seconds from 1 to 3600, got "0"/],
    [['frob'], /unknown command "frob"/],
    [['status', '--src', '192.0.2.1'], /--src goes with explain, not status/],
    [['start', '--dry-run'], /--dry-run goes with reload, force-reload, not start/],
    [['reload', '--dry-run', '--confirm', '60'], /--dry-run changes nothing, so it takes neither --confirm nor --if-changed/],
    [['explain'], /explain needs --src IP/],
    [['explain', '--src', '192.0.2.1', '--proto', 'tcp', '--dport', '99999'], /--dport expects a port number from 1 to 65535, got "99999"/],
    [['explain', '--src', 'x', '--proto', 'tcp'], /--src expects an IPv4 or IPv6 address, got "x"/],
    [[], /no command given/],
    [['start', '--no-such-option'], /Unknown option '--no-such-option'/],
  ])('%j', async (args, message) => {
    expect(await main([...NO_CONFIG, ...args])).toBe(2);
    expect(stderr).toMatch(message);
  });
});
