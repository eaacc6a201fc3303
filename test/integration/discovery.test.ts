/**
 * Issue 17, item 6: a namespace with no default route whose only other interface is an unaddressed veth peer. The
 * real CLI must say that there is no default route, not blame that veth ("v1 has no IPv4 address"), which is what
 * systeminformation's fallback used to pick. Nothing is loaded: show and start both stop at discovery (exit 6).
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, tsfwEnv, useCliCopy } from './helpers.js';

const cli = useCliCopy();
const config = () => cli.configs.write('FAIL2BAN=no\n');
const id = randomBytes(3).toString('hex');
const ns = `tsfw-nr-${id}`;
const peer = `tsfw-nrp-${id}`;

async function sh(argv: string[], env?: Record<string, string>) {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, env, timeout: 60_000, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? 124, stdout: String(r.stdout), stderr: String(r.stderr) };
}
async function must(argv: string[]) {
  const r = await sh(argv);
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

beforeAll(async () => {
  await must(['ip', 'netns', 'add', ns]);
  await must(['ip', 'netns', 'add', peer]);
  await must(['ip', '-n', ns, 'link', 'add', 'v1', 'type', 'veth', 'peer', 'name', 'v0', 'netns', peer]);
  for (const [where, dev] of [[ns, 'v1'], [ns, 'lo'], [peer, 'v0']] as const) await must(['ip', '-n', where, 'link', 'set', dev, 'up']);
  // The peer end gets an address; the firewall's end only its link-local one, and neither side has a default route.
  await must(['ip', '-n', peer, 'addr', 'add', '192.0.2.2/24', 'dev', 'v0']);
});
afterAll(async () => {
  await sh(['ip', 'netns', 'del', ns]);
  await sh(['ip', 'netns', 'del', peer]);
});

describe.each(BACKENDS)('no default route (%s)', (backend) => {
  test.each(['show', 'start'])('%s says "no default route; set INTERFACE" and loads nothing', async (verb) => {
    const r = await sh(['ip', 'netns', 'exec', ns, process.execPath, cli.path, '--config', config(), verb], tsfwEnv(cli.path, backend, ns));
    expect(r.exitCode, r.stderr).toBe(6);
    expect(r.stderr).toContain('no default route; set INTERFACE (or MYIP and NETMASK)');
    expect(r.stderr).not.toMatch(/v1 has no IPv4 address|DHCP pending/);
    const table = await sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'ruleset']);
    expect(table.stdout).not.toContain('tsfw');
    const saved = await sh(['ip', 'netns', 'exec', ns, 'iptables-save']);
    expect(saved.stdout).not.toContain('tsfw');
  });
});
