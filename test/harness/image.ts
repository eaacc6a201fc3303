// Local Debian images for container tests. There is no registry to pull from,
// so images are debootstrapped from the host's mirror and `docker import`ed,
// cached by a hash of their spec.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HOST_SOURCES, hostMirror } from './apt.js';
import { ensureDocker } from './dockerd.js';
import { withFileLock } from './lock.js';

/** Bump to rebuild every cached image after changing the build steps below. */
export const HARNESS_IMAGE_VERSION = 'tsfw-image-1';
export const ROOT_PASSWORD = 'tsfw';
export const MAIL_NAME = 'tsfw.test';
const BUILD_TIMEOUT_MS = 10 * 60_000;

export interface ImageSpec {
  /** Repository part of the tag; the tag itself is the spec hash. */
  name: string;
  suite: 'bookworm';
  /** Passed to `debootstrap --include`. */
  packages: readonly string[];
  /** Installed afterwards by apt-get in a chroot, after `debconf` is preseeded (debootstrap can't preseed). */
  chrootPackages?: readonly string[];
  /** debconf-set-selections lines. */
  debconf?: readonly string[];
}

export const TEST_IMAGE: ImageSpec = {
  name: 'tsfw-test',
  suite: 'bookworm',
  packages: [
    'systemd', 'systemd-sysv', 'dbus', 'iproute2', 'iptables', 'ipset', 'nftables', 'procps',
    'openssh-server', 'openssh-client', 'sshpass', 'fail2ban', 'python3-systemd',
    'netcat-openbsd', 'nodejs', 'ca-certificates',
  ],
  // bsd-mailx needs an MTA; left to debootstrap it would pick exim4, so both go in after the preseed.
  chrootPackages: ['postfix', 'bsd-mailx'],
  debconf: [
    'postfix postfix/main_mailer_type select Internet Site',
    `postfix postfix/mailname string ${MAIL_NAME}`,
  ],
};

// Units that cannot work in a container and would only make the system "degraded".
const MASKED_UNITS = [
  'systemd-udevd.service', 'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket',
  'getty@.service', 'console-getty.service', 'systemd-networkd-wait-online.service',
];

const FILES: Record<string, string> = {
  'etc/hostname': 'tsfw-test\n',
  'etc/apt/apt.conf.d/99tsfw-no-recommends': 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n',
  'etc/ssh/sshd_config.d/tsfw-test.conf': 'PermitRootLogin yes\nPasswordAuthentication yes\n',
  // Without rsyslog there is no /var/log/auth.log and Debian's default sshd jail fails to start.
  'etc/fail2ban/jail.d/tsfw-test.conf': '[sshd]\nbackend = systemd\n',
  // Empty: systemd gives each container its own id at boot.
  'etc/machine-id': '',
};

export function imageTag(spec: ImageSpec): string {
  const h = createHash('sha256')
    .update(JSON.stringify([HARNESS_IMAGE_VERSION, spec.suite, spec.packages, spec.chrootPackages ?? [], spec.debconf ?? []]))
    .digest('hex')
    .slice(0, 16);
  return `${spec.name}:${h}`;
}

export async function imageExists(tag: string): Promise<boolean> {
  const r = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { reject: false, timeout: 30_000 });
  return r.exitCode === 0;
}

async function build(spec: ImageSpec, tag: string): Promise<void> {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  const left = () => {
    const ms = deadline - Date.now();
    if (ms <= 0) throw new Error(`image build of ${tag} exceeded ${BUILD_TIMEOUT_MS / 60_000} min`);
    return ms;
  };
  const env = { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C.UTF-8' };
  const dir = mkdtempSync('/var/tmp/tsfw-rootfs-');
  const chroot = (argv: string[], input?: string) =>
    execa('chroot', [dir, ...argv], { env, timeout: left(), ...(input === undefined ? {} : { input }) });
  try {
    await execa(
      'debootstrap',
      ['--variant=minbase', `--include=${spec.packages.join(',')}`, spec.suite, dir, hostMirror()],
      { env, timeout: left() },
    );
    // The image's apt talks to the same mirror as the host, with the same keyring setup.
    rmSync(join(dir, 'etc/apt/sources.list'), { force: true });
    copyFileSync(HOST_SOURCES, join(dir, 'etc/apt/sources.list.d/debian.sources'));
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    // Services must not start inside the build chroot (they would run on the host).
    const policy = join(dir, 'usr/sbin/policy-rc.d');
    writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    if (spec.chrootPackages?.length) {
      await chroot(['apt-get', 'update', '-q']);
      if (spec.debconf?.length) await chroot(['debconf-set-selections'], `${spec.debconf.join('\n')}\n`);
      await chroot(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...spec.chrootPackages]);
      if (spec.chrootPackages.includes('postfix')) {
        // postinst took the build host's hostname; pin one that means the same in every container.
        await chroot(['postconf', '-e', `myhostname=${MAIL_NAME}`]);
      }
    }
    unlinkSync(policy);
    await chroot(['ssh-keygen', '-A']);
    await chroot(['chpasswd'], `root:${ROOT_PASSWORD}\n`);
    for (const unit of MASKED_UNITS) {
      const p = join(dir, 'etc/systemd/system', unit);
      rmSync(p, { force: true });
      symlinkSync('/dev/null', p);
    }
    await chroot(['apt-get', 'clean']);
    // buffer:false — by default execa also buffers stdout and kills tar past maxBuffer (100 MB).
    await execa('tar', ['-C', dir, '--numeric-owner', '-c', '.'], { timeout: left(), buffer: false }).pipe(
      'docker',
      ['import', '--change', 'CMD ["/sbin/init"]', '--change', 'ENV container=docker', '-', tag],
      { timeout: left() },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const inProcess = new Map<string, Promise<string>>();

/** Returns the tag of the image for `spec`, building it once if no cached one exists. */
export async function ensureImage(spec: ImageSpec): Promise<string> {
  const tag = imageTag(spec);
  let p = inProcess.get(tag);
  if (!p) {
    p = (async () => {
      await ensureDocker();
      if (await imageExists(tag)) return tag;
      await withFileLock(`/tmp/tsfw-image-${spec.name}.lock`, BUILD_TIMEOUT_MS + 60_000, async () => {
        // Another process may have built it while we waited for the lock.
        if (!(await imageExists(tag))) await build(spec, tag);
      });
      return tag;
    })();
    p.catch(() => inProcess.delete(tag));
    inProcess.set(tag, p);
  }
  return p;
}
