// Test hosts as containers: systemd ones (services, units, journald) and plain
// ones (a client that only needs a shell and nc), on a fixed TEST-NET address.
import { statfsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { ensureDocker } from './dockerd.js';
import { TEST_IMAGE, ensureImage } from './image.js';
import { HARNESS_LABEL } from './network.js';

export type { StartedTestContainer };

export interface Bind {
  source: string;
  target: string;
  mode?: 'rw' | 'ro';
}

export interface ContainerOptions {
  /** Docker network name (see createInternalNetwork). */
  network: string;
  /** Fixed IPv4 address inside that network's subnet. */
  ip: string;
  name?: string;
  binds?: Bind[];
  /** Image tag; defaults to TEST_IMAGE (built on first use). */
  image?: string;
}

export interface ExecOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const CGROUP2_MAGIC = 0x63677270;
const SYSTEMD_BOOT_MS = 120_000;
const EXEC_TIMEOUT_MS = 120_000;

/** GenericContainer has no builder for a fixed IP, cgroupns or stop signal; set them on the create call. */
class HarnessContainer extends GenericContainer {
  constructor(
    image: string,
    private readonly net: string,
    private readonly ip: string,
    private readonly extraHostConfig: Record<string, unknown>,
    private readonly stopSignal?: string,
  ) {
    super(image);
    this.withNetworkMode(net).withLabels({ [HARNESS_LABEL]: '1' });
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const endpoint = { IPAMConfig: { IPv4Address: this.ip }, Aliases: this.createOpts.name ? [this.createOpts.name] : [] };
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [this.net]: endpoint } };
    Object.assign(this.hostConfig, this.extraHostConfig);
    if (this.stopSignal) this.createOpts.StopSignal = this.stopSignal;
  }
}

export async function exec(
  container: StartedTestContainer,
  argv: readonly string[],
  timeoutMs = EXEC_TIMEOUT_MS,
): Promise<ExecOutput> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`exec timed out after ${timeoutMs}ms: ${JSON.stringify(argv)}`)), timeoutMs);
  });
  try {
    const r = await Promise.race([container.exec([...argv]), timeout]);
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Until systemd has settled (a boot, or a reboot by the test): bounded, and names the failed units if not. */
export async function waitForSystemd(c: StartedTestContainer): Promise<void> {
  const deadline = Date.now() + SYSTEMD_BOOT_MS;
  let state = '';
  for (let i = 0; i < 1_000 && Date.now() < deadline; i++) {
    // Exits non-zero for "degraded" and "starting" alike, so read the word, not the code.
    state = (await exec(c, ['systemctl', 'is-system-running'], 15_000).catch(() => ({ stdout: '' }))).stdout.trim();
    if (state === 'running' || state === 'degraded') return;
    await sleep(500);
  }
  const failed = await exec(c, ['systemctl', '--failed', '--no-pager', '--plain'], 15_000).catch((e: Error) => ({ stdout: e.message }));
  throw new Error(`systemd did not come up within ${SYSTEMD_BOOT_MS / 1000}s (state "${state}"):\n${failed.stdout}`);
}

/**
 * Docker 20.10 still gives containers on --internal networks a default route
 * to the host bridge (forwarding is then dropped by docker's rules). Deleting
 * it makes "no way out" visible inside the container and fails stray traffic fast.
 */
async function dropDefaultRoute(c: StartedTestContainer): Promise<void> {
  const routes = await exec(c, ['ip', '-4', 'route', 'show', 'default'], 15_000);
  if (routes.stdout.trim() === '') return;
  const del = await exec(c, ['ip', '-4', 'route', 'del', 'default'], 15_000);
  if (del.exitCode !== 0) throw new Error(`could not drop default route: ${del.stderr}`);
}

function cgroupV2(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_MAGIC;
  } catch {
    return false;
  }
}

export async function startSystemdContainer(opts: ContainerOptions): Promise<StartedTestContainer> {
  await ensureDocker();
  const image = opts.image ?? (await ensureImage(TEST_IMAGE));
  // Tested on a cgroup v1 (hybrid) host, where a read-only bind of the host
  // hierarchy is enough for systemd 252. On cgroup v2, systemd must be able to
  // create its own subtree, hence rw + host cgroupns (untested here).
  const v2 = cgroupV2();
  const c = new HarnessContainer(image, opts.network, opts.ip, v2 ? { CgroupnsMode: 'host' } : {}, 'SIGRTMIN+3')
    .withCommand(['/sbin/init'])
    .withEnvironment({ container: 'docker' })
    .withAddedCapabilities('NET_ADMIN', 'NET_RAW', 'SYS_ADMIN')
    .withTmpFs({ '/run': 'rw,nosuid,nodev,mode=755', '/run/lock': 'rw,nosuid,nodev,noexec,mode=1777', '/tmp': 'rw,nosuid,nodev,mode=1777' })
    .withBindMounts([{ source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', mode: v2 ? 'rw' : 'ro' }, ...(opts.binds ?? [])])
    .withStartupTimeout(SYSTEMD_BOOT_MS);
  if (opts.name) c.withName(opts.name);
  const started = await c.start();
  try {
    await dropDefaultRoute(started);
    await waitForSystemd(started);
  } catch (e) {
    await started.stop({ timeout: 5_000 }).catch(() => undefined);
    throw e;
  }
  return started;
}

export async function startPlainContainer(opts: ContainerOptions & { cmd?: string[] }): Promise<StartedTestContainer> {
  await ensureDocker();
  const image = opts.image ?? (await ensureImage(TEST_IMAGE));
  // `sleep` as PID 1 ignores SIGTERM; nothing in a plain container needs a clean shutdown.
  const c = new HarnessContainer(image, opts.network, opts.ip, {}, 'SIGKILL')
    .withCommand(opts.cmd ?? ['sleep', 'infinity'])
    .withAddedCapabilities('NET_ADMIN', 'NET_RAW')
    .withStartupTimeout(60_000);
  if (opts.binds?.length) c.withBindMounts(opts.binds);
  if (opts.name) c.withName(opts.name);
  const started = await c.start();
  try {
    await dropDefaultRoute(started);
  } catch (e) {
    await started.stop({ timeout: 5_000 }).catch(() => undefined);
    throw e;
  }
  return started;
}
