/**
 * Issue 5, property: any config drawn from the schema's value space (src/config/schema.ts) is accepted by the
 * loader, and the ruleset it compiles to is accepted by `iptables-restore --test` (both backends) with its ban sets
 * created first, inside a throwaway `unshare --net`. Because iptables-nft's --test only parses (a jump to a chain
 * that does not exist passes it), the ruleset is then really loaded in that namespace too, and every rule must come
 * back from iptables-save. The same configs on nftables: the one nft document passes `nft -c`, loads, and lists
 * every rule back. 50 runs each (TSFW_PROPERTY_RUNS for more).
 */
import { execa } from 'execa';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SocketAddress } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { restoreTexts } from '../../src/backend/iptables/transaction.js';
import { ipsetCreateScript } from '../../src/backend/iptables/ipset-text.js';
import { renderDocument } from '../../src/backend/nftables/render.js';
import { compile } from '../../src/compile/plan.js';
import { parseConfig } from '../../src/config/load.js';
import { KNOWN_SERVICES } from '../../src/config/services.js';
import { resolveHostChoices } from '../../src/discover/choices.js';

const bool = fc.constantFrom('yes', 'no', 'true', 'false', '1', '0', 'on', 'off', 'YES');
const v4 = fc.ipV4();
const v6 = fc.ipV6();
const cidr = fc.oneof(
  fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
  v4,
  fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
);
const sep = fc.constantFrom(' ', ', ', ',', '  ');
const listText = <T extends string>(item: fc.Arbitrary<T>, min: number, max: number) =>
  fc.tuple(fc.array(item, { minLength: min, maxLength: max }), sep).map(([items, s]) => items.join(s));
const portNumber = fc.oneof(fc.integer({ min: 1, max: 65535 }).map(String), fc.constantFrom('ssh', 'http', 'https', 'smtp', 'domain', 'imaps'));
const port = fc.oneof(portNumber, fc.tuple(fc.integer({ min: 1, max: 65534 }), fc.integer({ min: 1, max: 65535 }), fc.constantFrom('-', ':'))
  .filter(([lo, hi]) => lo < hi).map(([lo, hi, s]) => `${lo}${s}${hi}`));
const logPrefix = fc.stringMatching(/^[A-Za-z0-9_:.,=#@/+-][A-Za-z0-9 _:.,=#@/+-]{0,27}$/);
const netdev = fc.stringMatching(/^[A-Za-z0-9_.@-]{1,15}$/).filter((n) => n !== '.' && n !== '..');
const custom = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/).filter((n) => !(n in KNOWN_SERVICES));

/** One service's keys; index makes ban and hit-rate list names unique, as the loader requires. */
function serviceKeys(name: string, index: number) {
  const key = (f: string) => `SERVICE_${name.toUpperCase()}_${f}`;
  const known = name in KNOWN_SERVICES;
  return fc.record({
    ports: known ? fc.option(listText(port, 1, 20), { nil: undefined }) : listText(port, 1, 20),
    proto: fc.option(listText(fc.constantFrom('tcp', 'udp', 'TCP'), 1, 2), { nil: undefined }),
    from: fc.option(fc.oneof(fc.constant('any'), listText(cidr, 1, 4)), { nil: undefined }),
    rate: fc.option(fc.oneof(fc.constant('no'), fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 9_999_999 }), fc.constantFrom('', 's'))
      .map(([h, s, u]) => `${h}/${s}${u}`)), { nil: undefined }),
    log: fc.option(logPrefix, { nil: undefined }),
    bans: fc.option(bool, { nil: undefined }),
  }).map((v) => [
    v.ports && `${key('PORTS')}=${v.ports}`,
    v.proto && `${key('PROTO')}="${v.proto}"`,
    v.from && `${key('FROM')}="${v.from}"`,
    v.rate && `${key('RATE_LIMIT')}=${v.rate}`,
    `${key('RATE_NAME')}=R${index}_${name}`,
    v.log && `${key('LOG_PREFIX')}="${v.log}"`,
    v.bans && `${key('BANS')}=${v.bans}`,
    `${key('BAN_NAME')}=B${index}${name.toUpperCase()}`.slice(0, key('BAN_NAME').length + 20),
  ].filter(Boolean).join('\n'));
}

const services = fc.uniqueArray(fc.oneof(fc.constantFrom(...Object.keys(KNOWN_SERVICES)), custom), { minLength: 0, maxLength: 5 });

const configText = services.chain((names) => fc.tuple(
  fc.constant(names),
  fc.tuple(...names.map((n, i) => serviceKeys(n, i))),
  fc.record({
    trust: bool, notForMe: bool, spoof: bool, ping: bool,
    trusted: fc.option(listText(cidr, 1, 5), { nil: undefined }),
    snat: fc.option(fc.tuple(netdev, fc.option(v4, { nil: undefined })), { nil: undefined }),
    ipv6: fc.constantFrom('drop', 'mirror', 'off'),
    banMode: fc.constantFrom('ipset', 'chain'),
  }),
)).map(([names, perService, g]) => [
  `SERVICES="${names.join(' ')}"`,
  `TRUST_LOCAL_SUBNET=${g.trust}`, `DROP_NOT_FOR_ME=${g.notForMe}`, `ANTI_SPOOFING=${g.spoof}`, `ALLOW_PING=${g.ping}`,
  g.trusted && `TRUSTED_NETS="${g.trusted}"`,
  g.snat && `SNAT_INTERFACE=${g.snat[0]}`, g.snat?.[1] && `SNAT_TO=${g.snat[1]}`,
  `IPV6=${g.ipv6}`, `BAN_MODE=${g.banMode}`, 'FAIL2BAN=no',
  ...perService,
].filter(Boolean).join('\n') + '\n');

const host = fc.record({
  iface: netdev,
  myip: v4,
  prefix: fc.integer({ min: 8, max: 32 }),
  myip6: fc.array(v6, { maxLength: 2 }),
  warnings: fc.constant([] as string[]),
});

/** Fixed script, paths as arguments: sets, then per family --test, the real load, and the save. */
const SANDBOX = [
  'set -e', 'dir=$1; backend=$2',
  'if [ -s "$dir/sets" ]; then ipset restore -exist < "$dir/sets"; fi',
  'for f in ipv4 ipv6; do',
  '  [ -f "$dir/$f" ] || continue',
  '  if [ $f = ipv4 ]; then t=iptables-$backend; else t=ip6tables-$backend; fi',
  '  $t-restore -w 5 --noflush --test < "$dir/$f"',
  '  $t-restore -w 5 --noflush < "$dir/$f"',
  '  $t-save > "$dir/$f.saved"',
  'done',
].join('\n');

/** Rules a document adds (-A, and -I for the jumps into our chains) or a save shows (all -A). */
const ruleLines = (doc: string) => doc.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith('-I ')).length;

test('every valid config renders a ruleset iptables-restore --test accepts, and that really loads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-prop-'));
  try {
    await fc.assert(fc.asyncProperty(configText, host, fc.constantFrom('nft', 'legacy'), async (text, facts, backend) => {
      const { config } = parseConfig(text, 'generated.conf');
      const plan = compile(config, facts);
      const docs = Object.entries(restoreTexts(plan, {}));
      for (const f of ['sets', 'ipv4', 'ipv6', 'ipv4.saved', 'ipv6.saved']) rmSync(join(dir, f), { force: true });
      writeFileSync(join(dir, 'sets'), ipsetCreateScript(plan.ipsets));
      for (const [family, doc] of docs) writeFileSync(join(dir, family), doc);
      const r = await execa('unshare', ['--net', '--', 'sh', '-c', SANDBOX, 'sandbox', dir, backend], { reject: false, timeout: 60_000 });
      const context = `${r.stderr}\n--- config ---\n${text}\n--- rules ---\n${docs.map(([, d]) => d).join('\n')}`;
      expect(r.exitCode, context).toBe(0);
      for (const [family, doc] of docs) {
        expect(ruleLines(readFileSync(join(dir, `${family}.saved`), 'utf8')), context).toBe(ruleLines(doc));
      }
    }), { numRuns: Number(process.env.TSFW_PROPERTY_RUNS ?? 50) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);

/** Check, load, list: the document is the only input, and the listing of our table the only output. */
const NFT_SANDBOX = ['set -e', 'nft -c -f "$1"', 'nft -f "$1"', 'nft list table inet tsfirewall > "$2"'].join('\n');
const markedRules = (text: string) => text.split('\n').filter((l) => l.includes('comment "tsfw:')).length;

/**
 * The host's IPv6 addresses as discovery reports them (os.networkInterfaces: libuv's inet_ntop text, which
 * net.SocketAddress prints too): nft reads that form, not every text fast-check's ipV6() spells ("2001:db8::1.2.3.4").
 */
const discoveredHost = host.map((h) => ({ ...h, myip6: h.myip6.map((a) => new SocketAddress({ address: a, family: 'ipv6' }).address) }));

test('every valid config renders an nft document that nft -c accepts, that loads, and whose rules all list back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-propn-'));
  const doc = join(dir, 'ruleset.nft');
  const listed = join(dir, 'listed.nft');
  try {
    await fc.assert(fc.asyncProperty(configText, discoveredHost, async (text, facts) => {
      // As the CLI does on nftables: every ban lives in a set whatever BAN_MODE says.
      const config = resolveHostChoices(parseConfig(text, 'generated.conf').config, 'nftables');
      const rendered = renderDocument(compile(config, facts));
      writeFileSync(doc, rendered);
      rmSync(listed, { force: true });
      const r = await execa('unshare', ['--net', '--', 'sh', '-c', NFT_SANDBOX, 'sandbox', doc, listed], { reject: false, timeout: 60_000 });
      const context = `${r.stderr}\n--- config ---\n${text}\n--- document ---\n${rendered}`;
      expect(r.exitCode, context).toBe(0);
      expect(markedRules(readFileSync(listed, 'utf8')), context).toBe(markedRules(rendered));
    }), { numRuns: Number(process.env.TSFW_PROPERTY_RUNS ?? 50) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
