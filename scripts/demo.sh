#!/usr/bin/env bash
# The first run, showing the whole story without touching this machine's own firewall: a firewall host (network
# namespace tsfw-demo, 192.0.2.10) with a real sshd, and an attacker (tsfw-demo-peer, 198.51.100.66, routed through
# 192.0.2.1) failing SSH logins. The hit-rate limiter answers first, then a real fail2ban bans the attacker; `bans`,
# `explain` for the attacker and `metrics` show it; then everything is removed again.
#
# fail2ban and sshd keep their sockets, pid files and configuration at fixed paths, so the story runs in a mount
# namespace of its own, with a private /run/fail2ban, /run/sshd and a copy of /etc/fail2ban bound over the real
# ones: nothing of this machine's own fail2ban or sshd is seen or changed. Packages first: only what the demo needs,
# so it starts at once; the tests' packages (docker, the bench's peers...) are installed after it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then exec sudo "$0" "$@"; fi
  echo "demo.sh needs root (network namespaces, a mount namespace): run it as root" >&2
  exit 1
fi

if [[ -z ${TSFW_DEMO_INSIDE-} ]]; then
  started=$(date +%s)
  bash scripts/install-deps.sh --demo
  TSFW_DEMO_INSIDE=1 unshare --mount --propagation private -- "$0" "$@"
  echo "== the demo took $(($(date +%s) - started)) s; now the rest of what the tests need (npm test)"
  bash scripts/install-deps.sh
  exit 0
fi

ns=${TSFW_DEMO_NS:-tsfw-demo} peer=${TSFW_DEMO_NS:-tsfw-demo}-peer
attacker=198.51.100.66
work=$(mktemp -d /tmp/tsfw-demo.XXXXXX)
cleanup() {
  ip netns exec "$ns" bin/tsfirewall --config "$work/tsfirewall.conf" stop >/dev/null 2>&1 || true
  if [[ -s $work/sshd.pid ]]; then kill "$(cat "$work/sshd.pid")" 2>/dev/null || true; fi
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$peer" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$ns" 2>/dev/null || true
ip netns del "$peer" 2>/dev/null || true

# Private daemon paths (this mount namespace only).
mkdir -p "$work/etc-fail2ban" "$work/run-fail2ban" "$work/run-sshd" /run/fail2ban /run/sshd
cp -a /etc/fail2ban/. "$work/etc-fail2ban/"
rm -f "$work/etc-fail2ban/jail.d/"*
printf '[Definition]\nlogtarget = %s\ndbfile = :memory:\n' "$work/fail2ban.log" >"$work/etc-fail2ban/fail2ban.local"
mount --bind "$work/etc-fail2ban" /etc/fail2ban
mount --bind "$work/run-fail2ban" /run/fail2ban
mount --bind "$work/run-sshd" /run/sshd

# Two hosts on one veth pair; the attacker's address is the peer's own, routed by the peer (192.0.2.1).
ip netns add "$ns"
ip netns add "$peer"
ip link add eth0 netns "$ns" type veth peer name eth0 netns "$peer"
ip -n "$ns" addr add 192.0.2.10/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up
ip -n "$ns" route add default via 192.0.2.1
ip -n "$peer" addr add 192.0.2.1/24 dev eth0
ip -n "$peer" addr add "$attacker/32" dev lo
ip -n "$peer" link set eth0 up
ip -n "$peer" link set lo up

# A real sshd on port 22, its log lines stamped as syslog would (fail2ban's sshd filter reads that format).
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
cat >"$work/sshd_config" <<EOF
Port 22
HostKey $work/host_key
PidFile $work/sshd.pid
UsePAM no
PasswordAuthentication no
LogLevel VERBOSE
EOF
: >"$work/auth.log"
ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$work/sshd_config" 2>&1 |
  perl -MPOSIX -ne '$| = 1; print strftime("%b %e %H:%M:%S", localtime), " tsfw-demo sshd[22]: $_"' >>"$work/auth.log" &
for _ in $(seq 50); do [[ -s $work/sshd.pid ]] && break; sleep 0.1; done

cat >"$work/tsfirewall.conf" <<EOF
FAIL2BAN=yes
SERVICES=ssh web
SERVICE_SSH_JAIL_LOGPATH=$work/auth.log
SERVICE_SSH_JAIL_MAXRETRY=3
EOF
chmod 600 "$work/tsfirewall.conf"
export TSFIREWALL_RUN_DIR=$work/run TSFIREWALL_STATE_DIR=$work/state TSFIREWALL_CACHE_DIR=
tsfw() { echo "+ tsfirewall $*"; ip netns exec "$ns" bin/tsfirewall --config "$work/tsfirewall.conf" "$@"; }
attack() {
  ip netns exec "$peer" ssh -b "$attacker" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=2 "admin$1@192.0.2.10" true 2>&1 | tail -1
}

echo "== the firewall host starts (the talk's ruleset, SSH limited to 3 new connections in 180 s per source)"
tsfw start
echo
echo "== the attacker at $attacker tries to log in five times in a row"
for i in 1 2 3 4 5; do printf '  attempt %s: %s\n' "$i" "$(attack "$i" || true)"; done
echo "  (attempts 1-3 reached sshd and failed; 4 and 5 timed out: the hit-rate limiter dropped them)"
tsfw recent
echo
echo "== fail2ban read sshd's three failures and bans the attacker"
for _ in $(seq 60); do ip netns exec "$ns" bin/tsfirewall --config "$work/tsfirewall.conf" bans 2>/dev/null | grep -q "$attacker" && break; sleep 0.5; done
tsfw bans
echo
tsfw explain --src "$attacker" --proto tcp --dport 22
echo
tsfw explain --src "$attacker" --proto tcp --dport 80
echo
echo "== metrics for Prometheus (a few of them)"
tsfw metrics | grep -E '^tsfirewall_(state|ban_daemon_up|bans|bans_added_total|jail_failures_total|limiter_hits_total|policy_dropped_packets_total)[{ ]' | grep -v ' 0$' || true
echo
tsfw stop
tsfw status || echo "  (status exit code $? = stopped)"
