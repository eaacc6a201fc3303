/**
 * The fleet bench's table rows: one per measure, with its goal and verdict (PASS, MISS, or info where a row is a
 * reference point rather than a goal), and the rows and note that set CrowdSec's propagation beside the fleet's.
 */
import { quantile } from '../lib/stats.js';
import type { CrowdsecLab } from './crowdsec.js';
import { lostText, p50p99, ratios, refusedText, type Samples } from './propagation.js';

/** One table line, echoed on stderr as it is measured so a long run shows its progress. */
export function row(what: string, got: string, goal: string, ok: boolean | undefined): string {
  const line = `| ${what} | ${got} | ${goal} | ${ok === undefined ? 'info' : ok ? '**PASS**' : '**MISS**'} |`;
  process.stderr.write(`${line}\n`);
  return line;
}

const times = (x: number) => `${x < 0.1 ? x.toPrecision(2) : x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)}x`;

/** CrowdSec's row and the ratio row for one poll period, from rounds interleaved with the fleet's. */
export function compared(cs: CrowdsecLab, s: Samples, receivers: number, period: string, extra: string): string[] {
  const r = ratios(s);
  return [
    row(`CrowdSec (${cs.version}), ${period}: \`cscli decisions add --ip\` on h0 to the bouncer's set on each of ${receivers} hosts (${s.crowdsec.length} samples, interleaved with the fleet's: ${p50p99(s.fleet)})`,
      `${p50p99(s.crowdsec)} (from cscli's exit: ${p50p99(s.crowdsecFromAck)}; cscli itself p50 ${quantile(s.cscli, 0.5).toFixed(0)} ms${extra}${refusedText(s.refused, s.cscli.length + s.refused.length)}${lostText(s.lost.crowdsec, s.crowdsec.length)})`, 'the anchor', undefined),
    row(`ratio tsfirewall-fleet / CrowdSec, ${period}, same rounds`,
      `p50 ${times(r.p50)}, p99 ${times(r.p99)} (CrowdSec takes ${times(1 / r.p50)} and ${times(1 / r.p99)} the fleet's time); against CrowdSec from cscli's exit: p50 ${times(r.p50FromAck)}, p99 ${times(r.p99FromAck)}`,
      'below 1: the fleet is faster', undefined),
  ];
}

/** How the comparison was made, printed under the table so every regenerated result says it. */
export function crowdsecNote(periodMs: number, defaultRounds: number): string {
  const then = defaultRounds > 0 ? `, then at the package's default of 10 s over ${defaultRounds} rounds` : '';
  return `CrowdSec comparison: its Local API alone (\`crowdsec -no-cs\`, sqlite, no Central API) in a namespace of its own
on the WAN segment, plain HTTP (the fleet's NATS connections use TLS); one \`crowdsec-firewall-bouncer\` in nftables
mode in each receiver's namespace, beside tsfirewall, each registered with \`cscli bouncers add\` and timed by the
same \`nft monitor\` as the fleet's set. The ban is \`cscli decisions add --ip IP --duration 1h\` in h0's namespace (a
machine of \`cscli machines add\`), timed from its issue, so cscli's own start and its login to the LAPI count; the
fleet's time starts at the outbox write, after the kernel has the ban, so a ban verb's own start is not in it. The
times from cscli's exit (the LAPI has stored the decision) leave out the LAPI's write instead, which the fleet's time
includes as its publish: the two bracket a like-for-like figure, and the ratio row gives both.
The bouncers poll every ${periodMs} ms for the comparison${then}.
Each poll of each bouncer is an HTTP request and a database read and write at the LAPI, whose share of a core serving
them alone is in the row. Each round bans on both, in a shuffled order, after a random wait of up to the poll period,
so CrowdSec's bans land anywhere in the bouncers' cycle. A ban the LAPI refuses, or a delivery still missing after
its round's ceiling (then looked up in the kernel's set at the phase's end), is counted in its row and not timed.\n`;
}
