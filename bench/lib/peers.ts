/**
 * The firewalls tsfirewall is compared with, as data: the seed's ruleset in each tool's own configuration (written
 * by hand under bench/peers/), where the tool reads and writes (private copies, mounted over its paths inside the
 * peer's own network and mount namespace by bench/peers/enter.sh), what it runs once before timing, the verbs timed
 * and how each gets back to boot state. bench/lib/peer-setup.ts makes it so; sections/peers.ts times it.
 */
import type { PeerRole } from './lab.js';

export type PeerVerbName = 'start' | 'start, recompiling' | 'status' | 'reload';

export interface PeerVerb {
  readonly verb: PeerVerbName;
  readonly argv: readonly string[];
  /** Untimed before each run: boot state (`reset`), or the peer's ruleset loaded (`running`). */
  readonly from: 'reset' | 'running';
}

export interface Step { readonly argv: readonly string[]; readonly input?: string }

export interface PeerSpec {
  readonly name: string;
  readonly role: PeerRole;
  /** Programs that must be installed; the first one missing is why the peer is skipped. */
  readonly needs: readonly string[];
  /** bench/peers/<template> -> <path under the private root>, with the namespace's facts filled in. */
  readonly templates: readonly (readonly [string, string])[];
  /** Files of the installed package (or of its unpacked copy, see `unpacked`) -> path under the private root. */
  readonly copies: readonly (readonly [string, string])[];
  /** Where the package's files come from when it is not installed: its unpacked copy (bench/peers/install.sh). */
  readonly unpacked?: string;
  /** Rewrites in copied files (netfilter-persistent's fixed paths), `@ROOT@` being the private root. */
  readonly rewrites?: readonly (readonly [string, string])[];
  /** enter.sh's mount arguments (`@ROOT@` is the private root). */
  readonly mounts: readonly string[];
  /** Run once in the peer's agent, untimed, after its files are in place. */
  readonly setup: readonly Step[];
  readonly verbs: readonly PeerVerb[];
  /** Back to boot state: no ruleset, the peer's daemon stopped. */
  readonly reset: readonly Step[];
  /** Loads the peer's ruleset, untimed (before a `running` verb). */
  readonly ensureRunning?: readonly Step[];
  /** Run in the agent before it closes: stop what the peer left running, by pid. */
  readonly teardown?: readonly Step[];
  /** How it was run, for the report. */
  readonly how: string;
}

const FLUSH: Step = { argv: ['nft', 'flush', 'ruleset'] };
/** A shell step; its arguments are "$1"... (paths the bench fills in, never config text). */
const sh = (script: string, ...args: string[]): Step => ({ argv: ['sh', '-c', script, 'sh', ...args] });
/** ferm loads through the legacy xtables tools (its own choice): their tables need emptying too. */
const OPEN_LEGACY = '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';

export const NFP_UNPACKED = '.cache/bench/peers/netfilter-persistent/pkg';

export const PEERS: readonly PeerSpec[] = [
  {
    name: 'netfilter-persistent', role: 'np', needs: ['iptables-restore', 'run-parts'],
    templates: [['netfilter-persistent/rules.v4', 'rules.v4'], ['netfilter-persistent/rules.v6', 'rules.v6']],
    // Not installable beside ufw (ufw Breaks it): run from its unpacked package when it is not installed.
    copies: [['/usr/sbin/netfilter-persistent', 'netfilter-persistent'], ['/etc/default/netfilter-persistent', 'default'],
      ['/usr/share/netfilter-persistent/plugins.d/15-ip4tables', 'plugins.d/15-ip4tables'],
      ['/usr/share/netfilter-persistent/plugins.d/25-ip6tables', 'plugins.d/25-ip6tables']],
    unpacked: NFP_UNPACKED,
    rewrites: [['/usr/share/netfilter-persistent/plugins.d', '@ROOT@/plugins.d'], ['/etc/default/netfilter-persistent', '@ROOT@/default'],
      ['/etc/iptables/rules.v', '@ROOT@/rules.v']],
    mounts: [], setup: [],
    verbs: [{ verb: 'start', argv: ['sh', '@ROOT@/netfilter-persistent', 'start'], from: 'reset' }],
    reset: [FLUSH],
    how: '`netfilter-persistent start` (its run-parts over the iptables plugins: `iptables-restore --test`, then `iptables-restore`, per family, as the shipped /etc/default/netfilter-persistent sets), from a private copy of its scripts whose fixed paths (/etc/iptables/rules.v4...) point at the private root',
  },
  {
    name: 'ferm', role: 'fe', needs: ['ferm'],
    templates: [['ferm/ferm.conf', 'ferm.conf']], copies: [], mounts: [], setup: [],
    verbs: [{ verb: 'start', argv: ['ferm', '@ROOT@/ferm.conf'], from: 'reset' }],
    reset: [FLUSH, { argv: ['iptables-legacy-restore', '-w', '5'], input: OPEN_LEGACY }, { argv: ['ip6tables-legacy-restore', '-w', '5'], input: OPEN_LEGACY }],
    how: '`ferm ferm.conf` (compiles, then one iptables-restore per family; ferm picks the legacy xtables tools itself)',
  },
  {
    name: 'ufw', role: 'uf', needs: ['ufw'],
    templates: [...['ufw.conf', 'before.rules', 'after.rules', 'user.rules', 'before6.rules', 'after6.rules', 'user6.rules']
      .map((f) => [`ufw/etc/ufw/${f}`, `etc/ufw/${f}`] as const), ['ufw/etc/default/ufw', 'etc/default/ufw']],
    copies: [['/etc/ufw/sysctl.conf', 'etc/ufw/sysctl.conf'], ['/lib/ufw/ufw-init', 'lib/ufw/ufw-init'],
      ['/lib/ufw/ufw-init-functions', 'lib/ufw/ufw-init-functions']],
    // ufw's lock is /run/ufw.lock: /run is private too.
    mounts: ['tmpfs', '/run', 'bind', '@ROOT@/etc/ufw', '/etc/ufw', 'bind', '@ROOT@/lib/ufw', '/lib/ufw', 'bind', '@ROOT@/etc/default/ufw', '/etc/default/ufw'],
    setup: [{ argv: ['mkdir', '-p', '/etc/ufw/applications.d'] }],
    verbs: [
      { verb: 'start', argv: ['/lib/ufw/ufw-init', 'start'], from: 'reset' },
      { verb: 'status', argv: ['ufw', 'status'], from: 'running' },
      { verb: 'reload', argv: ['ufw', 'reload'], from: 'running' },
    ],
    reset: [FLUSH],
    ensureRunning: [{ argv: ['/lib/ufw/ufw-init', 'start'] }],
    how: '`/lib/ufw/ufw-init start` (what ufw.service runs), `ufw status`, `ufw reload`, with private copies of /etc/ufw, /lib/ufw and /etc/default/ufw mounted over the real ones',
  },
  {
    name: 'shorewall', role: 'sw', needs: ['shorewall'],
    templates: ['shorewall.conf', 'zones', 'interfaces', 'policy', 'conntrack', 'rules'].map((f) => [`shorewall/${f}`, `etc/${f}`] as const),
    copies: [['/etc/shorewall/params', 'etc/params']],
    mounts: ['bind', '@ROOT@/etc', '/etc/shorewall', 'bind', '@ROOT@/var', '/var/lib/shorewall'],
    setup: [{ argv: ['shorewall', 'compile', '/var/lib/shorewall/compiled'] }],
    verbs: [
      { verb: 'start', argv: ['/var/lib/shorewall/compiled', 'start'], from: 'reset' },
      { verb: 'start, recompiling', argv: ['shorewall', 'start'], from: 'reset' },
      { verb: 'reload', argv: ['shorewall', 'reload'], from: 'running' },
    ],
    reset: [sh('shorewall clear >/dev/null 2>&1; nft flush ruleset; rm -f /var/lib/shorewall/state')],
    ensureRunning: [sh('shorewall status >/dev/null 2>&1 || /var/lib/shorewall/compiled start >/dev/null')],
    how: 'start: the script `shorewall compile` made once, run as `compiled start` (cached); start, recompiling: `shorewall start`; reload: `shorewall reload` (compiles again); private /etc/shorewall and /var/lib/shorewall mounted over the real ones. IPv4 only: IPv6 is shorewall6, another package',
  },
  {
    name: 'firewalld', role: 'fd', needs: ['firewalld', 'firewall-cmd', 'dbus-daemon', 'dbus-send'],
    templates: [['firewalld/etc/firewalld.conf', 'etc/firewalld.conf'], ['firewalld/etc/zones/seed.xml', 'etc/zones/seed.xml']],
    copies: [],
    mounts: ['tmpfs', '/run', 'bind', '@ROOT@/etc', '/etc/firewalld'],
    setup: [
      { argv: ['mkdir', '-p', '/run/dbus', '/run/firewalld'] },
      sh('dbus-daemon --config-file="$1" --print-pid > /run/dbus/daemon.pid', '@PEERS@/firewalld/dbus.conf'),
    ],
    verbs: [
      { verb: 'start', argv: ['sh', '@PEERS@/firewalld/start.sh'], from: 'reset' },
      { verb: 'status', argv: ['firewall-cmd', '--list-all'], from: 'running' },
      { verb: 'reload', argv: ['firewall-cmd', '--reload'], from: 'running' },
    ],
    reset: [sh('p=$(cat /run/firewalld/bench.pid 2>/dev/null) && kill "$p" 2>/dev/null; i=0; while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; rm -f /run/firewalld/bench.pid; nft flush ruleset')],
    ensureRunning: [sh('p=$(cat /run/firewalld/bench.pid 2>/dev/null) && kill -0 "$p" 2>/dev/null || sh "$1"', '@PEERS@/firewalld/start.sh')],
    teardown: [sh('p=$(cat /run/firewalld/bench.pid 2>/dev/null) && kill "$p"; kill "$(cat /run/dbus/daemon.pid)"; true')],
    how: 'start: `firewalld --nofork --nopid` (as its unit), timed until firewalld reports RUNNING over D-Bus (bench/peers/firewalld/start.sh); status: `firewall-cmd --list-all`; reload: `firewall-cmd --reload`; on a private system bus (its own dbus-daemon, no polkit: firewalld then allows root) in a private /run, with a private /etc/firewalld mounted over the real one',
  },
  {
    name: 'seed script', role: 'sd', needs: ['ifconfig', 'iptables'],
    templates: [['seed/iptables', 'iptables']], copies: [], mounts: [], setup: [],
    verbs: [{ verb: 'start', argv: ['sh', '@ROOT@/iptables', 'start'], from: 'reset' }],
    reset: [FLUSH],
    how: 'the seed\'s /etc/init.d/iptables, `iptables start` (bench/peers/seed/iptables: one iptables exec per rule, MYIP and NETMASK scraped from ifconfig)',
  },
];
