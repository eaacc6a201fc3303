/**
 * A real dockerd inside a lab namespace (test/harness/netns.ts), so the rules it writes (DOCKER chains, the FORWARD
 * jump, MASQUERADE and DNAT, FORWARD policy DROP) land in that namespace and a firewall under test meets them there.
 * Everything of it lives in one temp dir: data and exec roots, socket, pidfile, log, its own containerd; its mounts
 * live in a private mount namespace, so they end with it and never show in this machine's mount table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { ensureDocker } from './dockerd.js';
import { TEST_IMAGE, ensureImage } from './image.js';
import type { Host } from './netns.js';

/** Every network this dockerd makes lies in TEST-NET-3: docker0 gets the upper half, user networks the lower. */
export const DOCKER_NETS = {
  bip: '203.0.113.129/25',
  pool: 'base=203.0.113.64/26,size=28',
  bip6: '2001:db8:5:1::/64',
} as const;

/** How the daemon is set up; the defaults are Docker's own, except docker-proxy (see userlandProxy). */
export interface NetnsDockerdOptions {
  /** Which iptables dockerd finds on PATH: the system's (`iptables` is iptables-nft here) or iptables-legacy. */
  readonly iptables?: 'nft' | 'legacy';
  /** Also IPv6 on docker0 and ip6tables rules (docker 20.10: `--experimental --ip6tables`). */
  readonly ipv6?: boolean;
  /**
   * docker-proxy on (docker's default) or off (default here): off, a published port reaches the container only
   * through DNAT and FORWARD, the path a firewall can break; on, docker-proxy answers through INPUT and would hide
   * that damage. Even off, dockerd 20.10 holds the port open (unaccepted), so a bare connect succeeds without DNAT:
   * check Docker's DNAT rule counted the connection.
   */
  readonly userlandProxy?: boolean;
  readonly startTimeoutMs?: number;
}

/** Never thrown on a non-zero exit: tests assert on docker's refusals too. */
export interface DockerResult { readonly exitCode: number; readonly stdout: string; readonly stderr: string }

/** One running daemon, its client bound to its socket, and the one way to take it all down. */
export interface NetnsDockerd {
  readonly ns: string;
  readonly dir: string;
  readonly socket: string;
  /** Milliseconds from spawn until the daemon answered on its socket. */
  readonly startedInMs: number;
  docker(args: readonly string[], opts?: { readonly timeoutMs?: number }): Promise<DockerResult>;
  /** docker() that must succeed: its trimmed stdout, or an error naming the command, its stderr and the log tail. */
  dockerOk(args: readonly string[], opts?: { readonly timeoutMs?: number }): Promise<string>;
  logTail(lines?: number): string;
  /** Containers, daemon, its containerd and shims, temp dir: idempotent, and safe after a failed start. */
  stop(): Promise<void>;
}

const ANSWER_EVERY_MS = 250;

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

/** Processes of this instance that outlived dockerd: containerd and shims name the instance's dir in their argv. */
function pidsNaming(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

/** A PATH dir whose iptables/ip6tables are the legacy ones: dockerd 20.10 runs whatever `iptables` PATH gives. */
function legacyBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const base of ['iptables', 'ip6tables']) {
    for (const suffix of ['', '-save', '-restore']) symlinkSync(`/usr/sbin/${base}-legacy${suffix}`, join(bin, `${base}${suffix}`));
  }
  return bin;
}

/**
 * Starts dockerd in `host`'s namespace and waits (bounded) until it answers. `nsenter --net` rather than
 * `ip netns exec`: the latter remounts /sys for the namespace, which hides /sys/fs/cgroup and dockerd refuses to
 * start ("Devices cgroup isn't mounted"); `unshare --mount` keeps dockerd's overlay mounts off this machine's table.
 */
export async function startNetnsDockerd(host: Host, opts: NetnsDockerdOptions = {}): Promise<NetnsDockerd> {
  await ensureDocker();
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-nsdockerd-'));
  const socket = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  writeFileSync(join(dir, 'daemon.json'), '{}\n'); // not this machine's /etc/docker/daemon.json
  const env = { ...process.env, PATH: opts.iptables === 'legacy' ? `${legacyBin(dir)}:${process.env.PATH ?? ''}` : process.env.PATH };
  const logTail = (lines = 20) => { try { return readFileSync(logPath, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; } };
  const docker = async (args: readonly string[], o: { readonly timeoutMs?: number } = {}): Promise<DockerResult> => {
    const r = await execa('docker', ['-H', `unix://${socket}`, ...args], { reject: false, stdin: 'ignore', timeout: o.timeoutMs ?? 120_000 });
    return { exitCode: r.exitCode ?? 124, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const dockerOk = async (args: readonly string[], o: { readonly timeoutMs?: number } = {}) => {
    const r = await docker(args, o);
    if (r.exitCode !== 0) throw new Error(`docker ${args.join(' ')} (${r.exitCode}): ${r.stderr}\ndockerd log:\n${logTail()}`);
    return r.stdout.trim();
  };
  let child: ChildProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child && !(await exited(child, 0))) {
      const ids = (await docker(['ps', '-aq'], { timeoutMs: 30_000 })).stdout.split(/\s+/).filter(Boolean);
      if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids], { timeoutMs: 60_000 });
      child.kill('SIGTERM');
      if (!(await exited(child, 30_000))) { child.kill('SIGKILL'); await exited(child, 10_000); }
    }
    for (let i = 0; i < 40; i++) {
      const left = pidsNaming(dir);
      if (left.length === 0) break;
      for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await sleep(250);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // A fresh host boots with forwarding off: dockerd then turns it on and sets FORWARD to DROP, as issue 13 meets it.
    const fwd = await host.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    if (fwd.exitCode !== 0) throw new Error(`sysctl in ${host.ns}: ${fwd.stderr}`);
    const args = [
      `--net=/run/netns/${host.ns}`, 'unshare', '--mount', '--propagation', 'slave', '/usr/sbin/dockerd',
      '--config-file', join(dir, 'daemon.json'), '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'docker.pid'), '-H', `unix://${socket}`, '--bip', DOCKER_NETS.bip,
      '--default-address-pool', DOCKER_NETS.pool, '--shutdown-timeout', '5', `--userland-proxy=${opts.userlandProxy ?? false}`,
      ...(opts.ipv6 ? ['--experimental', '--ip6tables', '--ipv6', '--fixed-cidr-v6', DOCKER_NETS.bip6] : []),
    ];
    const out = openSync(logPath, 'a');
    const t0 = Date.now();
    try {
      child = spawn('nsenter', args, { env, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    const limit = opts.startTimeoutMs ?? 120_000;
    for (let i = 0; i < limit / ANSWER_EVERY_MS; i++) {
      if (await exited(child, 0)) throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode})`);
      const v = await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 });
      if (v.exitCode === 0 && v.stdout.trim() !== '') {
        return { ns: host.ns, dir, socket, startedInMs: Date.now() - t0, docker, dockerOk, logTail, stop };
      }
      if (Date.now() - t0 > limit) break;
      await sleep(ANSWER_EVERY_MS);
    }
    throw new Error(`dockerd did not answer within ${limit / 1000}s`);
  } catch (err) {
    const tail = logTail();
    await stop();
    throw new Error(`dockerd in ${host.ns}: ${(err as Error).message}\n${tail}`);
  }
}

/** What the listener image holds: netcat and the libraries it links, taken from the harness's Debian image. */
const NC_FILES = [
  'usr/bin/nc.openbsd', 'lib64/ld-linux-x86-64.so.2',
  ...['libbsd.so.0', 'libresolv.so.2', 'libc.so.6', 'libmd.so.0'].map((l) => `usr/lib/x86_64-linux-gnu/${l}`),
];
/** Fixed, not hashed: each daemon starts with an empty data root, so there is no stale image to tell apart. */
export const LISTENER_IMAGE = 'tsfw-nsdockerd-nc:1';

/**
 * Gives the daemon a 2.4 MB image whose default command listens on TCP 80 (`nc -dlk 80`), cut from the debootstrap
 * TEST_IMAGE by a tar run in it on the host dockerd: ~1 s here, where `docker save | load` of the whole 394 MB image
 * takes 10-15 s. There is no registry; this is the cheapest local source.
 */
export async function loadListenerImage(d: NetnsDockerd): Promise<string> {
  const source = await ensureImage(TEST_IMAGE);
  await execa('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'tar', source, '-c', '-h', '-C', '/', ...NC_FILES],
    { buffer: false, timeout: 120_000 }).pipe('docker', ['-H', `unix://${d.socket}`, 'import',
    '--change', 'CMD ["/usr/bin/nc.openbsd", "-dlk", "80"]', '-', LISTENER_IMAGE], { timeout: 120_000 });
  return LISTENER_IMAGE;
}

/** The whole image `tag` from the host dockerd (`docker save | docker load`), for a test that needs more than nc. */
export async function copyImage(d: NetnsDockerd, tag: string): Promise<void> {
  await execa('docker', ['save', tag], { buffer: false, timeout: 300_000 })
    .pipe('docker', ['-H', `unix://${d.socket}`, 'load'], { timeout: 300_000 });
}
