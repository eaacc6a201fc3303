/**
 * The fleet bench's anchor: CrowdSec from Debian's packages, run for real inside the lab. One `crowdsec -no-cs`
 * (its Local API alone, sqlite, no Central API) in a namespace of its own, `cscli decisions add` on the banning host
 * (a machine registered with `cscli machines add`), and one `crowdsec-firewall-bouncer` in nftables mode in each
 * receiving host's namespace (each a bouncer of `cscli bouncers add`), polling the LAPI every `update_frequency`.
 * Every file is in the bench's temporary directory; every wait has a ceiling; stop() ends what start made.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Host } from '../../test/harness/netns.js';
import { sleep } from './hosts.js';

const PROGRAMS = ['crowdsec', 'cscli', 'crowdsec-firewall-bouncer'] as const;
const PORT = 8080;

export interface CrowdsecLab {
  /** The Debian package versions measured, for the table. */
  readonly version: string;
  /**
   * `cscli decisions add --ip` on the banning host: when it was issued and when it exited (the LAPI has it), or why
   * the LAPI refused it (sqlite's "database is locked" under the bouncers' polls): a refusal is a result, not a crash.
   */
  ban(ip: string): Promise<{ issued: number; acked: number; refused?: string }>;
  /** (Re)starts one bouncer per receiver polling every `updateFrequency` (a Go duration), each with its set made. */
  bouncers(updateFrequency: string): Promise<void>;
  /** CPU time (ms) the LAPI process has used so far: what the bouncers' polling costs it. */
  lapiCpuMs(): number;
  stop(): Promise<void>;
}

/** Why the anchor cannot run here (a program not installed), or undefined when it can. */
export function crowdsecMissing(): string | undefined {
  const missing = PROGRAMS.filter((p) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', p]).status !== 0);
  return missing.length ? `${missing.join(', ')} not installed (bench/peers/install.sh installs crowdsec and crowdsec-firewall-bouncer)` : undefined;
}

const debVersion = (pkg: string) => { try { return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }); } catch { return '?'; } };

/** The LAPI's config: everything under `dir`, listening on the namespace's address only, no Central API section. */
const lapiConfig = (dir: string, ip: string) => `common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: ${dir}
config_paths:
  config_dir: ${dir}/
  data_dir: ${dir}/data/
  simulation_path: ${dir}/simulation.yaml
  hub_dir: /usr/share/crowdsec/hub/
  index_path: /usr/share/crowdsec/hub/.index.json
  notification_dir: ${dir}/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
db_config:
  log_level: warning
  type: sqlite
  db_path: ${dir}/data/crowdsec.db
  use_wal: true
api:
  client:
    credentials_path: ${dir}/lapi-credentials.yaml
  server:
    log_level: warning
    listen_uri: ${ip}:${PORT}
    profiles_path: ${dir}/profiles.yaml
    trusted_ips: [127.0.0.1]
prometheus:
  enabled: false
`;

/** The package's default profile (alerts of an IP become a 4 h ban); `cscli decisions add` sets its own. */
const PROFILE = `name: default_ip_remediation
filters:
 - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
 - type: ban
   duration: 4h
on_success: break
`;

/** The banning host's cscli: an API client only, with the machine's credentials. */
const clientConfig = (dir: string, credentials: string) => `common:
  log_media: stdout
  log_level: error
  working_dir: ${dir}
config_paths:
  config_dir: ${dir}/
  data_dir: ${dir}/data/
  hub_dir: /usr/share/crowdsec/hub/
  index_path: /usr/share/crowdsec/hub/.index.json
api:
  client:
    credentials_path: ${credentials}
`;

/** The package's own bouncer config with the bench's paths, key and poll period; IPv4 only, no metrics port. */
const bouncerConfig = (dir: string, lapiIp: string, key: string, updateFrequency: string) => `mode: nftables
pid_dir: ${dir}/
update_frequency: ${updateFrequency}
daemonize: false
log_mode: stdout
log_dir: ${dir}/
log_level: info
api_url: http://${lapiIp}:${PORT}/
api_key: ${key}
insecure_skip_verify: false
disable_ipv6: true
deny_action: DROP
deny_log: false
supported_decisions_types: [ban]
blacklists_ipv4: crowdsec-blacklists
blacklists_ipv6: crowdsec6-blacklists
nftables:
  ipv4: { enabled: true, set-only: false, table: crowdsec, chain: crowdsec-chain }
  ipv6: { enabled: false, set-only: false, table: crowdsec6, chain: crowdsec6-chain }
prometheus:
  enabled: false
`;

/** A daemon in a namespace, its output to a log file (`ip netns exec` execs: the child's pid is the daemon's). */
function daemon(host: Host, argv: readonly string[], log: string): ChildProcess {
  const fd = openSync(log, 'a');
  try { return spawn('ip', ['netns', 'exec', host.ns, ...argv], { stdio: ['ignore', fd, fd] }); } finally { closeSync(fd); }
}

async function end(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => { p.kill('SIGKILL'); resolve(); }, 10_000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

/** Waits for `ready` while the daemon lives; a daemon that exits or a ceiling passed is an error quoting its log. */
async function until(what: string, p: ChildProcess, log: string, ready: () => boolean, ceiling = 20_000): Promise<void> {
  for (const deadline = Date.now() + ceiling; Date.now() < deadline; await sleep(50)) {
    if (ready()) return;
    if (p.exitCode !== null || p.signalCode !== null) break;
  }
  const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' / ');
  throw new Error(`${what} ${p.exitCode === null && p.signalCode === null ? `not ready within ${ceiling} ms` : `exited (${p.exitCode ?? p.signalCode})`}: ${tail}`);
}

function cscli(host: Host, config: string, args: readonly string[]): string {
  return execFileSync('ip', ['netns', 'exec', host.ns, 'cscli', '-c', config, ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts the LAPI in `lapi`'s namespace and registers `banner` and every receiver; bouncers start with bouncers(). */
export async function startCrowdsec(o: { dir: string; lapi: Host; banner: Host; receivers: readonly { name: string; host: Host }[] }): Promise<CrowdsecLab> {
  const dir = join(o.dir, 'crowdsec');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(config, lapiConfig(dir, o.lapi.ip));
  writeFileSync(join(dir, 'simulation.yaml'), 'simulation: off\nexclusions: []\n');
  writeFileSync(join(dir, 'profiles.yaml'), PROFILE);
  const lapiLog = join(dir, 'lapi.log');
  const lapi = daemon(o.lapi, ['crowdsec', '-c', config, '-no-cs'], lapiLog);
  const running: ChildProcess[] = [];
  const lab: CrowdsecLab = {
    version: `crowdsec ${debVersion('crowdsec')}, crowdsec-firewall-bouncer ${debVersion('crowdsec-firewall-bouncer')}`,
    async ban(ip) {
      const issued = Date.now();
      const p = spawn('ip', ['netns', 'exec', o.banner.ns, 'cscli', '-c', bannerConfig, '--error', 'decisions', 'add', '--ip', ip, '--duration', '1h', '--reason', 'fleet bench'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
      let err = '';
      p.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
      const code = await new Promise<number | null>((resolve) => p.once('close', (c) => resolve(c)));
      const acked = Date.now();
      if (code !== 0) return { issued, acked, refused: /msg="([^"]*)"/.exec(err)?.[1] ?? `cscli exited ${code}: ${err.trim().slice(0, 200)}` };
      return { issued, acked };
    },
    async bouncers(updateFrequency) {
      await Promise.all(running.splice(0).map(end));
      await Promise.all(o.receivers.map(async (r, i) => {
        const file = join(dir, `bouncer-${r.name}.yaml`);
        writeFileSync(file, bouncerConfig(dir, o.lapi.ip, keys[i]!, updateFrequency), { mode: 0o600 });
        const log = join(dir, `bouncer-${r.name}.log`);
        const p = daemon(r.host, ['crowdsec-firewall-bouncer', '-c', file], log);
        running.push(p);
        await until(`crowdsec-firewall-bouncer on ${r.name}`, p, log, () => readFileSync(log, 'utf8').includes('Processing new and deleted decisions'));
        await until(`crowdsec-firewall-bouncer's set on ${r.name}`, p, log, () => spawnSync('ip', ['netns', 'exec', r.host.ns, 'nft', 'list', 'set', 'ip', 'crowdsec', 'crowdsec-blacklists'], { stdio: 'ignore' }).status === 0);
      }));
    },
    lapiCpuMs() {
      const stat = readFileSync(`/proc/${lapi.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, fields 14 and 15 of stat(5), in clock ticks of 100 Hz.
      return (Number(f[11]) + Number(f[12])) * 10;
    },
    async stop() { await Promise.all([...running.splice(0), lapi].map(end)); },
  };
  let keys: string[] = [];
  let bannerConfig = '';
  try {
    // It logs "listening" before it binds (a bind failure comes after, fatal): the socket itself is the sign.
    await until('crowdsec (LAPI)', lapi, lapiLog, () => spawnSync('ip', ['netns', 'exec', o.lapi.ns, 'ss', '-Hltn', 'src', `${o.lapi.ip}:${PORT}`], { encoding: 'utf8' }).stdout?.trim() !== '');
    const credentials = join(dir, `${o.banner.ns}-credentials.yaml`);
    cscli(o.lapi, config, ['machines', 'add', 'bench-banner', '--password', randomBytes(16).toString('hex'), '-f', credentials, '--url', `http://${o.lapi.ip}:${PORT}`]);
    bannerConfig = join(dir, 'banner.yaml');
    writeFileSync(bannerConfig, clientConfig(dir, credentials));
    keys = o.receivers.map((r) => cscli(o.lapi, config, ['bouncers', 'add', `bench-${r.name}`, '-o', 'raw']).trim());
    return lab;
  } catch (err) {
    await lab.stop();
    throw err;
  }
}
