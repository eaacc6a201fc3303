// Proves `tsfirewall mailguard` against the real Debian Postfix, over real SMTP from a second container on an
// --internal network (a /28 of TEST-NET-3): the harvest leak before, the black hole while enabled, and an
// exact restore of main.cf after disable. The CLI runs as shipped: an esbuild bundle on the image's node 18.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleCliInto } from '../harness/bundle.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, startPlainContainer, startSystemdContainer, type StartedTestContainer } from '../harness/container.js';
import { MAIL_NAME } from '../harness/image.js';
import { claimInternalNetwork, removeNetwork } from '../harness/network.js';
import { until } from '../harness/poll.js';

const NET = 'tsfw-mailguard-test';
// Other test files hold /28s of TEST-NET concurrently: take the first free one of these (bounded).
const SUBNETS = ['203.0.113.112/28', '203.0.113.128/28', '203.0.113.144/28', '203.0.113.160/28'];
let MAIL_IP = '';
let CLIENT_IP = '';
const CLI = ['node', '/opt/tsfirewall/tsfirewall.cjs'];
const UNKNOWN = `nosuchuser@${MAIL_NAME}`;
const REAL = `alice@${MAIL_NAME}`;

let mail: StartedTestContainer | undefined;
let client: StartedTestContainer | undefined;
let bundleDir = '';

interface SmtpResult { banner: number; rcpt: Record<string, number>; data: number | null; error?: string; log: string[] }

async function sh(argv: string[], c = mail) {
  if (!c) throw new Error('container did not start');
  return exec(c, argv, 60_000);
}

async function smtp(marker: string, ...rcpts: string[]): Promise<SmtpResult> {
  const r = await sh(['node', '/opt/smtp-client.mjs', MAIL_IP, `probe@client.${MAIL_NAME}`, marker, ...rcpts], client);
  const parsed = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as SmtpResult;
  expect(parsed.error, `${r.stderr}\n${parsed.log?.join('\n')}`).toBeUndefined();
  return parsed;
}

/** Local delivery is asynchronous: poll the mailbox, bounded. */
async function mailboxWith(account: string, marker: string): Promise<string> {
  let text = '';
  for (let i = 0; i < 60; i++) {
    text = (await sh(['cat', `/var/mail/${account}`])).stdout;
    if (text.includes(marker)) return text;
    await sleep(500);
  }
  const log = await sh(['journalctl', '-u', 'postfix@-', '--no-pager', '-n', '30']);
  throw new Error(`no message ${marker} in /var/mail/${account} after 30s:\n${log.stdout}`);
}

const postconfN = async () => (await sh(['postconf', '-n'])).stdout;
const mainCf = async () => (await sh(['sha256sum', '/etc/postfix/main.cf'])).stdout;

describe('mailguard against a real Postfix', () => {
  beforeAll(async () => {
    bundleDir = await bundleCliInto('tsfw-mailguard-dist');
    const { subnet } = await claimInternalNetwork(NET, SUBNETS);
    const base = subnet.replace(/\.\d+\/28$/, '.');
    const first = Number(/\.(\d+)\/28$/.exec(subnet)![1]);
    [MAIL_IP, CLIENT_IP] = [`${base}${first + 2}`, `${base}${first + 3}`];
    [mail, client] = await Promise.all([
      startSystemdContainer({ network: NET, ip: MAIL_IP }),
      startPlainContainer({ network: NET, ip: CLIENT_IP }),
    ]);
    await mail.copyDirectoriesToContainer([{ source: bundleDir, target: '/opt/tsfirewall' }]);
    await client.copyContentToContainer([{ content: readFileSync(new URL('./mailguard/smtp-client.mjs', import.meta.url), 'utf8'), target: '/opt/smtp-client.mjs' }]);
    expect((await sh(['useradd', '--create-home', '--shell', '/bin/bash', 'alice'])).exitCode).toBe(0);
    // The image's postfix postinst ran in a chroot with no network and left inet_protocols empty (no smtpd at all).
    expect((await sh(['postconf', '-e', 'inet_protocols=ipv4'])).exitCode).toBe(0);
    expect((await sh(['systemctl', 'restart', 'postfix'])).exitCode).toBe(0);
    await until('smtpd listening on port 25', async () => /:25\s/.test((await sh(['ss', '-Hltn'])).stdout), 30);
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.allSettled([mail?.stop({ timeout: 10_000 }), client?.stop({ timeout: 5_000 })]);
    await removeNetwork(NET);
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  }, 120_000);

  let before = '';
  let beforeSum = '';

  it('before: Postfix tells a harvester which users exist (5xx for an unknown one)', async () => {
    before = await postconfN();
    beforeSum = await mainCf();
    const r = await smtp('-', UNKNOWN, REAL);
    expect(r.banner).toBe(220);
    expect(r.rcpt[UNKNOWN]).toBeGreaterThanOrEqual(500);
    expect(r.rcpt[UNKNOWN]).toBeLessThan(600);
    expect(r.log.join('\n')).toMatch(/User unknown/);
    expect(r.rcpt[REAL]).toBe(250);
    const status = await sh([...CLI, 'mailguard', 'status', '--json']);
    expect(status.exitCode, status.stderr).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ enabled: false, managed: false, account: 'notausers', accountExists: false });
  });

  it('enable: sets the two keys, creates a no-login account with no home, reloads Postfix', async () => {
    const r = await sh([...CLI, 'mailguard', 'enable']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created account notausers/);
    expect(r.stdout).toMatch(/Postfix reloaded \(systemctl reload postfix\)/);
    expect((await sh(['postconf', '-n', 'luser_relay', 'local_recipient_maps'])).stdout).toBe('luser_relay = notausers\nlocal_recipient_maps =\n');
    const pw = (await sh(['getent', 'passwd', 'notausers'])).stdout.trim().split(':');
    expect(pw[5]).toBe('/nonexistent');
    expect(pw[6]).toBe('/usr/sbin/nologin');
    expect(Number(pw[2])).toBeLessThan(1000);
    expect((await sh(['test', '-e', '/nonexistent'])).exitCode).not.toBe(0);
    expect((await sh(['stat', '-c', '%a %U', '/var/lib/tsfirewall/mailguard.json'])).stdout.trim()).toBe('600 root');
  });

  it('a second enable changes nothing and keeps the saved originals', async () => {
    const [cf, state] = [await mainCf(), (await sh(['cat', '/var/lib/tsfirewall/mailguard.json'])).stdout];
    const r = await sh([...CLI, 'mailguard', 'enable']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/already enabled/);
    expect(r.stdout).not.toMatch(/reloaded/);
    expect(await mainCf()).toBe(cf);
    expect((await sh(['cat', '/var/lib/tsfirewall/mailguard.json'])).stdout).toBe(state);
  });

  // The probe before enable left an idle smtpd behind (max_idle 100 s) holding the old settings: a 250 here also
  // proves enable reloaded Postfix.
  it('while enabled: unknown recipients get 250 and land in the black hole; real users still get their mail', async () => {
    const unknown = await smtp('tsfw-unknown-1', UNKNOWN);
    expect(unknown.rcpt[UNKNOWN]).toBe(250);
    expect(unknown.data).toBe(250);
    const real = await smtp('tsfw-real-1', REAL);
    expect(real.rcpt[REAL]).toBe(250);
    expect(real.data).toBe(250);
    const hole = await mailboxWith('notausers', 'tsfw-unknown-1');
    expect(hole).toMatch(new RegExp(`^X-Original-To: ${UNKNOWN}$`, 'm'));
    expect((await sh(['stat', '-c', '%U %a', '/var/mail/notausers'])).stdout.trim()).toBe('notausers 600');
    const alice = await mailboxWith('alice', 'tsfw-real-1');
    expect(alice).not.toContain('tsfw-unknown-1');
    expect((await sh(['cat', '/var/mail/notausers'])).stdout).not.toContain('tsfw-real-1');
  });

  it('status reports on, the account and the size of its mailbox', async () => {
    const json = await sh([...CLI, 'mailguard', 'status', '--json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const s = JSON.parse(json.stdout);
    const size = Number((await sh(['stat', '-c', '%s', '/var/mail/notausers'])).stdout.trim());
    expect(s).toMatchObject({ enabled: true, managed: true, account: 'notausers', accountExists: true,
      mailbox: { path: '/var/mail/notausers', format: 'mbox', bytes: size } });
    expect(s.previous).toEqual({ luser_relay: { set: false }, local_recipient_maps: { set: false } });
    const text = await sh([...CLI, 'mailguard', 'status']);
    expect(text.stdout).toMatch(/^mailguard: on\n/);
  });

  it('disable: main.cf holds its original values, the 5xx is back, the account and its mail are kept', async () => {
    const r = await sh([...CLI, 'mailguard', 'disable']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/account notausers is kept with its mailbox \/var\/mail\/notausers/);
    expect(await postconfN()).toBe(before);
    expect(await mainCf()).toBe(beforeSum);
    const probe = await smtp('-', UNKNOWN, REAL);
    expect(probe.rcpt[UNKNOWN]).toBeGreaterThanOrEqual(500);
    expect(probe.rcpt[REAL]).toBe(250);
    expect((await sh(['getent', 'passwd', 'notausers'])).exitCode).toBe(0);
    expect((await sh(['cat', '/var/mail/notausers'])).stdout).toContain('tsfw-unknown-1');
    expect((await sh(['test', '-e', '/var/lib/tsfirewall/mailguard.json'])).exitCode).not.toBe(0);
    const again = await sh([...CLI, 'mailguard', 'disable']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/not enabled/);
  });

  it('restores values the admin had set (not only defaults), with a configured account name', async () => {
    expect((await sh(['postconf', '-e', 'local_recipient_maps=proxy:unix:passwd.byname $alias_maps', 'luser_relay=alice'])).exitCode).toBe(0);
    await sh(['sh', '-c', 'printf "MAILGUARD_ACCOUNT=spam-bin\\n" > /etc/default/tsfirewall']);
    const set = await postconfN();
    const on = await sh([...CLI, 'mailguard', 'enable']);
    expect(on.exitCode, on.stderr).toBe(0);
    expect((await sh(['postconf', '-h', 'luser_relay'])).stdout.trim()).toBe('spam-bin');
    const off = await sh([...CLI, 'mailguard', 'disable']);
    expect(off.exitCode, off.stderr).toBe(0);
    expect(await postconfN()).toBe(set);
    await sh(['rm', '-f', '/etc/default/tsfirewall']);
  });
});
