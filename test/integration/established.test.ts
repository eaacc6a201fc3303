/**
 * Issue 5, established flows survive reloads: a TCP stream between namespaces keeps flowing, with no reset and no
 * stall, across 50 reloads that alternate between a ruleset that opens its port and one that closes it (then only
 * conntrack's ESTABLISHED accept carries it). Bounded: 50 reloads, 240 s client lifetime.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canConnect, createLab, type Host, type Lab } from '../harness/netns.js';
import { BACKENDS, useCliCopy } from './helpers.js';
import { runCli, useScratch } from './safety-kit.js';

const MYIP = '192.0.2.10';
const PORT = 8080;
const RELOADS = 50;

const cli = useCliCopy();
const { configs } = cli;
const scratch = useScratch();
const OPEN = configs.write(`FAIL2BAN=no\nSERVICES=ssh stream\nSERVICE_STREAM_PORTS=${PORT}\n`);
const CLOSED = configs.write('FAIL2BAN=no\nSERVICES=ssh\n');

/** Echoes every byte back, for as long as the client keeps the connection. */
function echoServer(host: Host) {
  const code = `require('net').createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(${PORT},'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),300000)`;
  return execa('ip', ['netns', 'exec', host.ns, process.execPath, '-e', code], { reject: false });
}

/**
 * Sends a numbered line every 20 ms and checks each echo arrives in order; on "stop" on stdin (or at its lifetime
 * bound) it drains and prints {sent, received, maxGapMs, error, closed} as JSON.
 */
const CLIENT = `
const s=require('net').connect({host:'${MYIP}',port:${PORT}});
let sent=0,received=0,buf='',last=Date.now(),maxGap=0,error=null,closed=false,outOfOrder=0;
s.on('connect',()=>{console.error('connected');const t=setInterval(()=>{if(!closed)s.write((sent++)+'\\n')},20);
 const finish=()=>{clearInterval(t);setTimeout(()=>{console.log(JSON.stringify({sent,received,maxGapMs:maxGap,error,closed,outOfOrder}));process.exit(0)},1500)};
 process.stdin.on('data',d=>{if(String(d).includes('stop'))finish()});setTimeout(finish,240000)});
s.on('data',d=>{const now=Date.now();maxGap=Math.max(maxGap,now-last);last=now;buf+=d;let i;
 while((i=buf.indexOf('\\n'))>=0){const n=Number(buf.slice(0,i));buf=buf.slice(i+1);if(n!==received)outOfOrder++;received++}});
s.on('error',e=>{error=e.code||String(e)});s.on('close',()=>{closed=true});
`;

describe.each(BACKENDS)('a long-lived stream across %i reloads with %s'.replace('%i', String(RELOADS)), (backend) => {
  let lab: Lab;
  let fw: Host;
  let client: Host;
  let server: ReturnType<typeof echoServer>;
  beforeAll(async () => {
    lab = await createLab([{ name: 'fw', segment: 'lan', octet: 10 }, { name: 'client', segment: 'wan', octet: 20 }]);
    fw = lab.hosts.fw!;
    client = lab.hosts.client!;
    server = echoServer(fw);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo server did not start')), 10_000);
      server.stdout?.once('data', () => { clearTimeout(timer); resolve(); });
    });
  });
  afterAll(async () => { server?.kill('SIGKILL'); await lab?.destroy(); });

  test('no reset, no stall, every byte echoed in order', async () => {
    const run = (config: string) => runCli(cli.path, fw, scratch, ['reload'], { backend, config });
    expect((await run(OPEN)).exitCode).toBe(0);
    const stream = execa('ip', ['netns', 'exec', client.ns, process.execPath, '-e', CLIENT], { reject: false, timeout: 280_000 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stream did not connect')), 10_000);
      stream.stderr?.once('data', () => { clearTimeout(timer); resolve(); });
    });
    for (let i = 0; i < RELOADS; i++) {
      const r = await run(i % 2 === 0 ? CLOSED : OPEN);
      expect(r.exitCode, `reload ${i}: ${r.stderr}`).toBe(0);
    }
    // The last reload loaded OPEN; one in the middle loaded CLOSED, and then a new connection was refused.
    expect((await run(CLOSED)).exitCode).toBe(0);
    expect(await canConnect(client, MYIP, PORT, 1000)).toBe(false);
    stream.stdin?.write('stop\n');
    const result = JSON.parse(String((await stream).stdout)) as { sent: number; received: number; maxGapMs: number; error: string | null; closed: boolean; outOfOrder: number };
    expect(result.error).toBeNull();
    expect(result.closed).toBe(false);
    expect(result.outOfOrder).toBe(0);
    expect(result.sent).toBeGreaterThan(RELOADS * 5);
    expect(result.received).toBe(result.sent);
    // 20 ms between lines: a gap of seconds would mean the flow stalled behind a reload.
    expect(result.maxGapMs).toBeLessThan(3000);
  }, 280_000);
});
