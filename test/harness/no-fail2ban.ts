/**
 * The product under test must not find this machine's fail2ban: once fail2ban is installed (CI installs it for the
 * tests that run it on purpose), a start in a lab namespace would start a real fail2ban-server there with its
 * socket and pid file at the host's /run/fail2ban, shared by every namespace and every parallel test file, and
 * the tests that mean "no fail2ban here" would see one. `ip netns exec` gives each command a mount namespace of
 * its own (slave to the host's), so binding /dev/null over the programs there hides them from that command alone,
 * as on a host without the package. Tests that want the real daemon run it themselves.
 */
import { existsSync } from 'node:fs';

const PROGRAMS = ['fail2ban-client', 'fail2ban-server'].flatMap((p) => ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].map((d) => `${d}/${p}`));

/** The binaries to hide, found once per process (an empty list leaves argv as it is). */
const present = PROGRAMS.filter((p) => existsSync(p));
const RUN_DIR = '/run/fail2ban';

/**
 * `argv` run with fail2ban hidden: for the argv given to `ip netns exec NS`, which has made the mount namespace.
 * The shell only binds the listed paths and execs argv (its pid stays the program's).
 */
export function withoutFail2ban(argv: readonly string[]): string[] {
  if (present.length === 0 && !existsSync(RUN_DIR)) return [...argv];
  // The run directory too: a daemon another test runs by hand at its default paths must not look like ours.
  const script = `[ ! -d ${RUN_DIR} ] || mount -t tmpfs -o size=64k,mode=0755 tsfw-no-fail2ban ${RUN_DIR} || exit 126; ` +
    'while [ "$1" != -- ]; do mount --bind /dev/null "$1" || exit 126; shift; done; shift; exec "$@"';
  return ['sh', '-c', script, 'sh', ...present, '--', ...argv];
}
