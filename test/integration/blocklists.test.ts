/**
 * Issue 16, item 5: network blocklists and network bans, once per backend, with real connections. A local list in
 * Spamhaus DROP format keeps the world host out from start on (its line naming this host is refused, with its
 * line number); a FireHOL-style list downloaded from an HTTP server in the LAN namespace (nothing leaves the
 * machine) keeps the friends' network out after `blocklist refresh`; a 404 and an oversized answer keep the last
 * good copy; a new download swaps the set without touching a rule. Then `ban NET` and `unban NET`, and the
 * networks the ban guard refuses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FW_AND_NEIGHBOURS, createLab, listen, startServer, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, connects, isIptables, mustExec, savedRules, tsfw, tsfwOk, useCliCopy, type BackendName } from './helpers.js';

const cli = useCliCopy();
const MYIP = '192.0.2.10';
const SERVER = '192.0.2.20';

/** A web server in the LAN namespace serving `dir/list.txt` (404 when it is missing), for a bounded time. */
function serveDir(host: Host, dir: string): Promise<() => void> {
  const code = `const fs=require('fs');require('http').createServer((q,s)=>{let b;try{b=fs.readFileSync(${JSON.stringify(join(dir, 'list.txt'))})}catch{s.writeHead(404);return s.end()}` +
    `s.writeHead(200,{'content-type':'text/plain'});s.end(b)}).listen(8000,'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),600000)`;
  return startServer(host, code, 'blocklist server');
}

/** Our rules without the sets' elements: what a refresh must leave exactly as it was. */
async function rulesOnly(fw: Host, backend: BackendName): Promise<string> {
  if (isIptables(backend)) return savedRules(fw, backend);
  return mustExec(fw, ['nft', '-s', 'list', 'chain', 'inet', 'tsfirewall', 'input4']);
}

describe.each(BACKENDS)('blocklists and network bans on %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let out: Host;
  let friend: Host;
  const stops: (() => void)[] = [];
  const served = mkdtempSync(join(tmpdir(), 'tsfw-served-'));
  const local = join(cli.configs.dir, `drop-${backend}.txt`);
  writeFileSync(local, '; Spamhaus DROP List\n198.51.100.0/25 ; SBL100\n192.0.2.10 ; this host: refused\n');
  const config = cli.configs.write([
    'FAIL2BAN=no', 'BAN_MODE=ipset', 'SERVICES=ssh web', `BLOCKLIST_DROP_FILE=${local}`,
    `BLOCKLIST_FIREHOL_URL=http://${SERVER}:8000/list.txt`, 'BLOCKLIST_FETCH_MAX_BYTES=4096', 'BLOCKLIST_FETCH_TIMEOUT=20', '',
  ].join('\n'));
  const run = (args: readonly string[]) => tsfw(cli.path, fw, backend, args, config);
  const serve = (text: string | undefined) => (text === undefined ? rmSync(join(served, 'list.txt'), { force: true }) : writeFileSync(join(served, 'list.txt'), text));

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS);
    fw = lab.hosts.fw!;
    out = lab.hosts.out!;
    friend = lab.hosts.friend!;
    stops.push(await listen(fw, [22, 80]), await serveDir(lab.hosts.lan!, served));
  });
  afterAll(async () => {
    for (const s of stops) s();
    await lab?.destroy();
    rmSync(served, { recursive: true, force: true });
  });

  test('start loads the local list: the world host is kept out, the refused line is named with its number', async () => {
    const r = await run(['start']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`blocklist DROP: 1 IPv4 networks from ${local}, 1 lines refused`);
    expect(r.stderr).toContain(`${local}:3: refused "192.0.2.10 ; this host: refused": it contains this host's own address 192.0.2.10`);
    expect(r.stderr).toContain('blocklist FIREHOL: not downloaded yet');
    expect(await connects(out, MYIP, 80, 1000), 'the listed world host').toBe(false);
    expect(await connects(friend, MYIP, 80), 'a host on no list').toBe(true);
  });

  test('refresh downloads the URL list from the namespace server and swaps it in, rules untouched', async () => {
    const rules = await rulesOnly(fw, backend);
    serve('#\n# firehol_level1\n#\n203.0.113.0/24\n10.0.0.0/8\nnot-an-address\n');
    const r = await run(['blocklist', 'refresh']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`blocklist FIREHOL: 2 IPv4 networks from http://${SERVER}:8000/list.txt, 1 lines refused`);
    expect(r.stderr).toContain(`http://${SERVER}:8000/list.txt:6: refused "not-an-address": not an address or network`);
    expect(await connects(friend, MYIP, 80, 1000), 'the friends network, now listed').toBe(false);
    expect(await rulesOnly(fw, backend)).toBe(rules);
    expect((await tsfwOk(cli.path, fw, backend, ['blocklist'], config))).toMatch(/FIREHOL: http:\/\/192\.0\.2\.20:8000\/list\.txt; \d+ entries in the kernel; downloaded \d+s ago/);
  });

  test('a 404 and an answer over BLOCKLIST_FETCH_MAX_BYTES keep the last good copy', async () => {
    serve(undefined);
    const missing = await run(['blocklist', 'refresh', 'firehol']);
    expect(missing.stderr).toContain('the server answered 404');
    expect(missing.stderr).toContain('the last good copy stays');
    serve(`${'198.18.0.0/15\n'.repeat(400)}`);
    const big = await run(['blocklist', 'refresh', 'firehol']);
    expect(big.stderr).toContain('over 4096 bytes (BLOCKLIST_FETCH_MAX_BYTES)');
    expect(await connects(friend, MYIP, 80, 1000), 'still listed').toBe(false);
  });

  test('a new list replaces the old one at once; status holds the blocklist rules as loaded', async () => {
    serve('198.18.0.0/15\n');
    await tsfwOk(cli.path, fw, backend, ['blocklist', 'refresh'], config);
    expect(await connects(friend, MYIP, 80), 'no longer listed').toBe(true);
    expect(await connects(out, MYIP, 80, 1000), 'the local list is still loaded').toBe(false);
    const status = await run(['status']);
    expect(status.exitCode, status.stdout).toBe(0);
    expect(status.stdout).toContain('-- network blocklists');
  });

  test('ban NET keeps a whole network from the service, unban NET lets it back', async () => {
    const r = await run(['ban', '--jail', 'ssh', '203.0.113.16/28']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/banned 0 addresses and 1 network (\(16 addresses\) )?in tsfw-ssh/);
    expect(await connects(friend, MYIP, 22, 1000), 'banned from ssh').toBe(false);
    expect(await connects(friend, MYIP, 80), 'a service ban: web still answers').toBe(true);
    expect((await tsfwOk(cli.path, fw, backend, ['bans'], config))).toContain('203.0.113.20');
    await tsfwOk(cli.path, fw, backend, ['unban', '203.0.113.16/28'], config);
    expect(await connects(friend, MYIP, 22), 'unbanned').toBe(true);
  });

  test.each([
    ['192.0.2.0/28', "this host's own address 192.0.2.10"],
    ['192.0.2.16/28', 'the local subnet (TRUST_LOCAL_SUBNET=yes)'],
    ['127.0.0.0/16', 'loopback'],
    ['10.0.0.0/8', 'not a host address or a network of at most 65536 addresses'],
  ])('ban %s is refused (%s), nothing banned', async (net, why) => {
    const r = await run(['ban', '--jail', 'ssh', net]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(why);
  });

  test('stop removes the blocklist sets with the rest', async () => {
    await tsfwOk(cli.path, fw, backend, ['stop'], config);
    if (isIptables(backend)) expect(await mustExec(fw, ['ipset', 'list', '-n'])).not.toMatch(/^bl-/m);
    else expect((await fw.exec(['nft', 'list', 'table', 'inet', 'tsfirewall'])).exitCode).not.toBe(0);
  });
});

describe('a download that stalls (nftables: the fetch is the same for every backend)', () => {
  let lab: Lab;
  let fw: Host;
  const stops: (() => void)[] = [];
  const config = cli.configs.write(['FAIL2BAN=no', 'SERVICES=ssh', `BLOCKLIST_SLOW_URL=http://${SERVER}:8001/list.txt`, 'BLOCKLIST_FETCH_TIMEOUT=2', ''].join('\n'));

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS);
    fw = lab.hosts.fw!;
    // Answers the headers, then never sends the body.
    stops.push(await startServer(lab.hosts.lan!, "require('http').createServer((q,s)=>{s.writeHead(200);s.write('10.0.0.0/8\\n')}).listen(8001,'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),120000)", 'stalling server'));
  });
  afterAll(async () => {
    for (const s of stops) s();
    await lab?.destroy();
  });

  test('fails after BLOCKLIST_FETCH_TIMEOUT, loads nothing, and says why', async () => {
    await tsfwOk(cli.path, fw, 'nftables', ['start'], config);
    const t0 = Date.now();
    const r = await tsfw(cli.path, fw, 'nftables', ['blocklist', 'refresh'], config);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('no complete answer within 2 s');
    expect(r.stdout).toContain('blocklist SLOW: not loaded');
    expect(Date.now() - t0, 'bounded by the timeout, not the server').toBeLessThan(60_000);
    expect(await mustExec(fw, ['nft', 'list', 'set', 'inet', 'tsfirewall', 'bl-SLOW'])).not.toContain('10.0.0.0/8');
  });
});

describe.each(BACKENDS)('IPv6 networks in a blocklist and in a ban (IPV6=mirror) on %s', (backend) => {
  let lab: Lab;
  let fw: Host;
  let out: Host;
  let friend: Host;
  let stop: (() => void) | undefined;
  const list = join(cli.configs.dir, `v6-${backend}.txt`);
  writeFileSync(list, '# the WAN segment\n2001:db8:2::/64\n198.51.100.0/24\n');
  const config = cli.configs.write(['FAIL2BAN=no', 'BAN_MODE=ipset', 'IPV6=mirror', 'SERVICES=ssh web', `BLOCKLIST_V6_FILE=${list}`, ''].join('\n'));

  beforeAll(async () => {
    lab = await createLab(FW_AND_NEIGHBOURS, { ipv6: true });
    fw = lab.hosts.fw!;
    out = lab.hosts.out!;
    friend = lab.hosts.friend!;
    stop = await listen(fw, [22, 80], 600_000, '::');
  });
  afterAll(async () => {
    stop?.();
    await lab?.destroy();
  });

  test('both families of one list are loaded; a banned IPv6 network loses the service', async () => {
    const r = await tsfw(cli.path, fw, backend, ['start'], config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`blocklist V6: 1 IPv4 and 1 IPv6 networks from ${list}`);
    expect(await connects(out, fw.ip6!, 80, 1000), 'the listed IPv6 network').toBe(false);
    expect(await connects(out, MYIP, 80, 1000), 'the listed IPv4 network').toBe(false);
    expect(await connects(friend, fw.ip6!, 80), 'an IPv6 host on no list').toBe(true);
    await tsfwOk(cli.path, fw, backend, ['ban', '--jail', 'ssh', '2001:db8:3::/120'], config);
    expect(await connects(friend, fw.ip6!, 22, 1000), 'banned from ssh over IPv6').toBe(false);
    expect(await connects(friend, fw.ip6!, 80), 'web still answers').toBe(true);
    await tsfwOk(cli.path, fw, backend, ['stop'], config);
  });
});
