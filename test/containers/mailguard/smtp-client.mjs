// A tiny SMTP client run inside the client container (Debian's node 18): one transaction, bounded in time.
// argv: HOST FROM MARKER RCPT...   MARKER "-" means RCPT probes only (no DATA). Prints one JSON line.
import net from 'node:net';

const [host, from, marker, ...rcpts] = process.argv.slice(2);
const result = { banner: '', rcpt: {}, data: null, log: [] };
const done = (code) => { console.log(JSON.stringify(result)); process.exit(code); };
setTimeout(() => { result.error = 'timeout'; done(2); }, 20_000).unref();

const sock = net.connect({ host, port: 25 });
sock.on('error', (e) => { result.error = e.message; done(2); });
let buf = '';
const waiting = [];
sock.on('data', (d) => { buf += d; drain(); });
function drain() {
  while (waiting.length > 0) {
    // A reply is any "ddd-" continuation lines followed by a final "ddd " line.
    const m = /^(?:\d{3}-[^\n]*\n)*(\d{3})(?: [^\n]*)?\n/.exec(buf);
    if (!m) return;
    buf = buf.slice(m[0].length);
    result.log.push(m[0].trim());
    waiting.shift()(Number(m[1]));
  }
}
const reply = () => new Promise((resolve) => { waiting.push(resolve); drain(); });
const send = (line) => { result.log.push(`> ${line}`); sock.write(`${line}\r\n`); return reply(); };

result.banner = await reply();
await send('EHLO client.tsfw.test');
result.mail = await send(`MAIL FROM:<${from}>`);
const accepted = [];
for (const r of rcpts) {
  result.rcpt[r] = await send(`RCPT TO:<${r}>`);
  if (result.rcpt[r] === 250) accepted.push(r);
}
if (marker !== '-' && accepted.length > 0) {
  if ((await send('DATA')) === 354) {
    const body = [`From: <${from}>`, `To: ${accepted.map((a) => `<${a}>`).join(', ')}`, `Subject: ${marker}`, '', `marker ${marker}`, '.'];
    result.data = await send(body.join('\r\n'));
  }
}
await send('QUIT');
sock.end();
done(0);
