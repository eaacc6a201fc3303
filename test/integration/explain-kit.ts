/**
 * What the explain property test needs to watch the kernel decide: a prober in each lab host (one Node process fed
 * commands on stdin: TCP connects, UDP datagrams, pings, lines over long-lived sessions, each answered "open",
 * "refused" or not at all), and the packet counter of one rule as the kernel holds it, found by the text explain
 * names it with. Everything bounded: the prober ends itself, every wait has a ceiling.
 */
import { execa, type ResultPromise } from 'execa';
import type { Host } from '../harness/netns.js';
import { showText, objectId } from '../../src/backend/nftables/walk.js';
import type { Obj } from '../../src/backend/nftables/text.js';
import { isIptables, mustExec, sleep, tool, type BackendName, type Family } from './helpers.js';

export type Command =
  | { readonly op: 'tcp' | 'udp' | 'open'; readonly dst: string; readonly port: number }
  | { readonly op: 'ping'; readonly dst: string }
  | { readonly op: 'send'; readonly port: number; readonly line: string };

export interface Reply { readonly r: 'open' | 'refused' | 'error' | 'cancelled'; readonly e?: string }

/** The prober's code: one JSON command per stdin line, one JSON reply per stdout line, by command id. */
const PROBER = (lifetimeMs: number) => `
const net=require('net'),dgram=require('dgram'),cp=require('child_process');
const live=new Map(),sessions=new Map(),waiting=new Map();
const out=(o)=>process.stdout.write(JSON.stringify(o)+'\\n');
const refused=(e)=>['ECONNREFUSED','EHOSTUNREACH','ENETUNREACH'].includes(e.code)?'refused':'error';
const done=(id,r,e)=>{if(!live.has(id))return;live.delete(id);out({id,r,...(e?{e}:{})})};
const ops={
  open(c){const s=net.connect({host:c.dst,port:c.port});let buf='';
    s.on('connect',()=>{sessions.set(c.port,s);out({id:c.id,r:'open'})});
    s.on('data',(d)=>{buf+=d;const w=waiting.get(c.port);if(w&&buf.includes(w.line+'\\n')){waiting.delete(c.port);done(w.id,'open')}});
    s.on('error',(e)=>{sessions.delete(c.port);out({id:c.id,r:'error',e:e.code})});},
  tcp(c){const s=net.connect({host:c.dst,port:c.port});live.set(c.id,()=>s.destroy());
    s.on('connect',()=>{done(c.id,'open');s.destroy()});s.on('error',(e)=>done(c.id,refused(e),e.code));},
  udp(c){const d=dgram.createSocket(c.dst.includes(':')?'udp6':'udp4');live.set(c.id,()=>d.close());
    d.on('message',()=>{done(c.id,'open');d.close()});d.on('error',(e)=>{done(c.id,refused(e),e.code);try{d.close()}catch{}});
    d.connect(c.port,c.dst,()=>d.send('probe'));},
  ping(c){const p=cp.spawn('ping',['-n','-c','1','-w','60',c.dst],{stdio:'ignore'});live.set(c.id,()=>p.kill('SIGKILL'));
    p.on('exit',(code)=>done(c.id,code===0?'open':'error','ping exit '+code));},
  send(c){const s=sessions.get(c.port);if(!s){out({id:c.id,r:'error',e:'no session'});return}
    live.set(c.id,()=>{s.resetAndDestroy();sessions.delete(c.port)});waiting.set(c.port,{id:c.id,line:c.line});s.write(c.line+'\\n');},
  cancel(c){const f=live.get(c.target);live.delete(c.target);if(f)f();out({id:c.id,r:'cancelled'})},
};
require('readline').createInterface({input:process.stdin}).on('line',(l)=>{const c=JSON.parse(l);ops[c.op](c)});
out({id:0,r:'open'});setTimeout(()=>process.exit(0),${lifetimeMs});`;

export interface Prober {
  /** Sends a command; resolves to its id. */
  send(cmd: Command): number;
  /** The reply to a command, if it came. */
  reply(id: number): Reply | undefined;
  /** Waits (bounded) for a reply; undefined when none came in `seconds`. */
  await(id: number, seconds: number): Promise<Reply | undefined>;
  /** Ends what a command started (a connect in flight resets, a session is reset and forgotten), once it is done. */
  cancel(id: number): Promise<void>;
  readonly sessions: Set<number>;
  close(): void;
}

export async function startProber(host: Host, lifetimeMs = 1_200_000): Promise<Prober> {
  const child: ResultPromise = execa('ip', ['netns', 'exec', host.ns, process.execPath, '-e', PROBER(lifetimeMs)], { reject: false, stdin: 'pipe' });
  const replies = new Map<number, Reply>();
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    rest += d.toString();
    const lines = rest.split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const m = JSON.parse(line) as { id: number } & Reply;
      replies.set(m.id, m);
    }
  });
  let next = 1;
  const wait = async (id: number, seconds: number) => {
    for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline && !replies.has(id);) await sleep(25);
    return replies.get(id);
  };
  if (!(await wait(0, 15))) { child.kill('SIGKILL'); throw new Error(`no prober in ${host.ns}`); }
  const send = (cmd: object) => { const id = next++; child.stdin?.write(`${JSON.stringify({ ...cmd, id })}\n`); return id; };
  return {
    send,
    reply: (id) => replies.get(id),
    await: wait,
    cancel: async (target) => {
      const id = send({ op: 'cancel', target });
      if (!(await wait(id, 15))) throw new Error(`prober in ${host.ns} did not cancel ${target}`);
    },
    sessions: new Set(),
    close: () => { child.kill('SIGKILL'); },
  };
}

/**
 * Packets the kernel counted on one rule: explain's `rule` text in its `chain`, as iptables-save -c prints the line
 * (the text is the saved line itself) or as our nft walk prints a rule of `nft -j list ruleset` (its own counter).
 */
export async function countedBy(host: Host, backend: BackendName, family: Family, chain: string, rule: string): Promise<number> {
  if (isIptables(backend)) {
    const saved = await mustExec(host, [tool(backend, family, '-save'), '-c']);
    return saved.split('\n').map((l) => /^\[(\d+):\d+\] (.*)$/.exec(l)).filter((m) => m?.[2] === rule).reduce((n, m) => n + Number(m![1]), 0);
  }
  const doc = JSON.parse(await mustExec(host, ['nft', '-j', 'list', 'ruleset'])) as { nftables: Obj[] };
  let n = 0;
  for (const o of doc.nftables) {
    const r = o.rule as Obj | undefined;
    if (!r || objectId(String(r.family), String(r.table), String(r.chain)) !== chain) continue;
    const expr = (r.expr as Obj[]).filter((s) => typeof s === 'object');
    if (showText(expr, r.comment) !== rule) continue;
    const counter = expr.map((s) => s.counter).find((c): c is Obj => typeof c === 'object' && c !== null);
    n += Number(counter?.packets ?? 0);
  }
  return n;
}
