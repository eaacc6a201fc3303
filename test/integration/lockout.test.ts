/**
 * Issue 5, the lock-out guard. Run "from an SSH session" (SSH_CONNECTION as sshd sets it, naming a real client in
 * another namespace), start/reload refuse a ruleset that would drop the admin, unless --force. Each verdict of the
 * model evaluator is checked against the kernel: after a forced load, the admin's real connection gets in exactly
 * when the guard said it would. On iptables-nft and nftables (the guard's ban check asks the backend's BanStore:
 * the ipset or the ban chain, or our nft set; legacy's store is iptables-nft's with another program).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canConnect, createLab, listen, type Host, type Lab } from '../harness/netns.js';
import { addBan, isIptables, mustExec, removeBan, useCliCopy, type BackendName } from './helpers.js';
import { kernelState, runCli, useScratch, type CliOptions } from './safety-kit.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MYIP = '192.0.2.10';
const ADMIN = '198.51.100.20';
const SESSION = `${ADMIN} 50022 ${MYIP} 22`;
const BASE = 'FAIL2BAN=no\nBAN_MODE=chain\nSERVICE_SSH_RATE_LIMIT=no\n';

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();

describe.each(['iptables-nft', 'nftables'] as BackendName[])('the lock-out guard on %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let admin: Host;
  let stopListener: () => void;
  const run = (args: string[], config: string, extra: Partial<CliOptions> = {}) =>
    runCli(cli.path, fw, scratch, args, { backend, config: configs.write(config), env: { SSH_CONNECTION: SESSION }, ...extra });

  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'admin', segment: 'wan', octet: 20 }]);
    fw = lab.hosts.fw!;
    admin = lab.hosts.admin!;
    stopListener = await listen(fw, [22, 2222]);
  });
  afterAll(async () => { stopListener?.(); await lab?.destroy(); });

  describe('the guard agrees with the kernel', () => {
    test.each([
      ['the seed default (ssh open to the world)', '', false],
      ['SSH dropped from SERVICES', 'SERVICES=web\nTRUST_LOCAL_SUBNET=no\n', true],
      ['SSH only from another region', 'SERVICE_SSH_FROM=203.0.113.0/24\n', true],
      ['SSH only from the admin\'s region', 'SERVICE_SSH_FROM=198.51.100.0/24\n', false],
      ['the admin as a trusted friend, no SSH service', `SERVICES=web\nTRUSTED_NETS=${ADMIN}\n`, false],
      ['SSH moved to another port', 'SERVICE_SSH_PORTS=2222\n', true],
    ])('%s', async (_name, extra, refused) => {
      const reset = await run(['restart'], BASE, { env: {} });
      expect(reset.exitCode, reset.stderr).toBe(0);
      const before = await kernelState(fw, backend);
      const guarded = await run(['reload'], BASE + extra);
      if (refused) {
        expect(guarded.exitCode).toBe(1);
        expect(guarded.stderr).toMatch(new RegExp(`refusing to lock out this SSH session:\\n  a new SSH connection from ${ADMIN.replace(/\./g, '\\.')} to ${MYIP.replace(/\./g, '\\.')} port 22 would be dropped by`));
        expect(guarded.stderr).toMatch(/nothing was changed; to load it anyway add --force/);
        expect(await kernelState(fw, backend)).toBe(before);
        const forced = await run(['reload', '--force'], BASE + extra);
        expect(forced.exitCode, forced.stderr).toBe(0);
        expect(forced.stderr).toMatch(/applying anyway: --force/);
      } else {
        expect(guarded.exitCode, guarded.stderr).toBe(0);
      }
      expect(await canConnect(admin, MYIP, 22, 1000)).toBe(!refused);
    });
  });

  describe('bans on the admin', () => {
    test('an admin address in the ban chain is refused (the ban sits before the replies accept)', async () => {
      expect((await run(['restart'], BASE, { env: {} })).exitCode).toBe(0);
      // On nftables chain mode's bans are the set's elements (discover/choices.ts), and the guard names the set.
      if (isIptables(backend)) await mustExec(fw, ['iptables-nft', '-w', '5', '-A', 'fail2ban-SSH', '-s', ADMIN, '-j', 'REJECT']);
      else await addBan(fw, backend, { ip: ADMIN, mode: 'chain' });
      const r = await run(['reload'], BASE);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(isIptables(backend) ? /your address 198\.51\.100\.20 is banned in chain fail2ban-SSH/
        : /your address 198\.51\.100\.20 is banned in set f2b-SSH/);
      if (isIptables(backend)) await mustExec(fw, ['iptables-nft', '-w', '5', '-F', 'fail2ban-SSH']);
      else await removeBan(fw, backend, { ip: ADMIN, mode: 'chain' });
      expect((await run(['reload'], BASE)).exitCode).toBe(0);
    });

    test('an admin address in the ban set is refused', async () => {
      const config = 'FAIL2BAN=no\nBAN_MODE=ipset\nSERVICE_SSH_RATE_LIMIT=no\n';
      expect((await run(['restart'], config, { env: {} })).exitCode).toBe(0);
      await addBan(fw, backend, { ip: ADMIN, mode: 'ipset', timeout: 600 });
      const r = await run(['reload'], config);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/your address 198\.51\.100\.20 is banned in set f2b-SSH/);
      await removeBan(fw, backend, { ip: ADMIN, mode: 'ipset' });
      expect((await run(['reload'], config)).exitCode).toBe(0);
    });
  });

  test('the hit-rate limit is a warning, and the admin address is remembered for fail2ban ignoreip', async () => {
    const r = await run(['restart'], 'FAIL2BAN=no\n');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/more than 3 new connections in 180 s from 198\.51\.100\.20 are dropped/);
    const remembered = JSON.parse(readFileSync(join(scratch.stateDir, 'admin-sources.json'), 'utf8')) as { ip: string }[];
    expect(remembered.map((e) => e.ip)).toEqual([ADMIN]);
  });

  test('without SSH_CONNECTION there is no guard (systemd at boot)', async () => {
    const r = await run(['reload'], `${BASE}SERVICES=web\nTRUST_LOCAL_SUBNET=no\n`, { env: {} });
    expect(r.exitCode, r.stderr).toBe(0);
  });
});
