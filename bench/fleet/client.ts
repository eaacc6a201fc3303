/**
 * The fleet bench's own NATS clients, each a fresh node process in a host's namespace with that host's key: what a
 * verb that published itself would pay, and the two catch-up designs read side by side.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile } from '../lib/stats.js';
import type { BHost } from './hosts.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** A verb that published itself: a fresh node, the client loaded, a TLS connect with the host's key, one acked publish. */
export function directPublish(h: BHost, servers: readonly string[], ca: string, seed: string, n: number): number {
  const nats = join(repo, 'node_modules/nats/index.js');
  const code = `const t=performance.now();const n=require(${JSON.stringify(nats)});const fs=require('fs');(async()=>{` +
    `const nc=await n.connect({servers:${JSON.stringify(servers)},tls:{caFile:${JSON.stringify(ca)},checkServerIdentity:()=>undefined},` +
    `authenticator:n.nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(${JSON.stringify(seed)},'utf8').trim()))});` +
    `await nc.jetstream().publish('tsfw.bans.h0.ssh.198_18_250_1',JSON.stringify({v:1}));await nc.close();console.log(performance.now()-t)})()`;
  const times = Array.from({ length: n }, () => {
    const t0 = performance.now();
    execFileSync('ip', ['netns', 'exec', h.host.ns, process.execPath, '-e', code], { encoding: 'utf8' });
    return performance.now() - t0;
  }).sort((x, y) => x - y);
  return quantile(times, 0.5);
}

/**
 * Times reading the whole stream two ways, in one node process in h0's namespace with h0's key: an ordered consumer
 * with DeliverPolicy.LastPerSubject, and a durable pull consumer (a new name per round, deleted after) with
 * DeliverPolicy.All. Neither acknowledges (h0 may not publish acks), so both pay delivery only.
 */
export function catchUpDesigns(h: BHost, servers: readonly string[], ca: string, seed: string): { n: number; replay: number; durable: number } {
  const nats = join(repo, 'node_modules/nats/index.js');
  const code = `const n=require(${JSON.stringify(nats)});const fs=require('fs');(async()=>{` +
    `const nc=await n.connect({servers:${JSON.stringify(servers)},tls:{caFile:${JSON.stringify(ca)},checkServerIdentity:()=>undefined},` +
    `authenticator:n.nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(${JSON.stringify(seed)},'utf8').trim()))});` +
    `const js=nc.jetstream();const jsm=await nc.jetstreamManager();const total=(await jsm.streams.info('TSFW_BANS')).state.messages;` +
    `const read=async(c)=>{const t=performance.now();const it=await c.consume({max_messages:2000});let k=0;for await(const m of it){k++;if(m.info.pending===0)break}return [performance.now()-t,k]};` +
    `const r=[],d=[];for(let i=0;i<5;i++){` +
    `r.push((await read(await js.consumers.get('TSFW_BANS',{filterSubjects:'tsfw.bans.>',deliver_policy:n.DeliverPolicy.LastPerSubject})))[0]);` +
    `const name='bench'+i+Date.now();await jsm.consumers.add('TSFW_BANS',{durable_name:name,filter_subject:'tsfw.bans.>',ack_policy:n.AckPolicy.None,deliver_policy:n.DeliverPolicy.All});` +
    `d.push((await read(await js.consumers.get('TSFW_BANS',name)))[0]);await jsm.consumers.delete('TSFW_BANS',name).catch(()=>{})}` +
    `const med=(a)=>a.sort((x,y)=>x-y)[2];console.log(JSON.stringify({n:total,replay:med(r),durable:med(d)}));await nc.close()})()`;
  const text = execFileSync('ip', ['netns', 'exec', h.host.ns, process.execPath, '-e', code], { encoding: 'utf8', timeout: 300_000 });
  return JSON.parse(text.trim().split('\n').pop()!) as { n: number; replay: number; durable: number };
}
