#!/usr/bin/env bash
# Installs what is missing, then shows the real thing without firewalling this machine: a throwaway network
# namespace "tsfw-demo" (192.0.2.10/24, a peer namespace at 192.0.2.1 as its default route), `tsfirewall start`
# with the embedded default (the seed's ruleset), `status`, a connection test from the peer, then `stop`.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "demo.sh needs root (network namespaces); try: sudo $0" >&2; exit 1; }
bash scripts/install-deps.sh
ns=tsfw-demo peer=tsfw-demo-peer
cleanup() { ip netns del "$ns" 2>/dev/null || true; ip netns del "$peer" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add "$ns"; ip netns add "$peer"
ip link add eth0 netns "$ns" type veth peer name eth0 netns "$peer"
ip -n "$ns" addr add 192.0.2.10/24 dev eth0; ip -n "$ns" link set eth0 up; ip -n "$ns" link set lo up
ip -n "$peer" addr add 192.0.2.1/24 dev eth0; ip -n "$peer" link set eth0 up
ip -n "$ns" route add default via 192.0.2.1
tsfw() { echo "+ tsfirewall $*"; ip netns exec "$ns" bin/tsfirewall "$@"; }
tsfw start
tsfw status || true
echo "+ from 192.0.2.1 (the local subnet, trusted) to port 8080, which no service rule opens:"
timeout 5 ip netns exec "$ns" nc -l 8080 >/dev/null 2>&1 &
sleep 0.5
if ip netns exec "$peer" nc -z -w 2 192.0.2.10 8080; then echo "  connected: the trusted subnet bypasses the service rules"; else echo "  NOT connected"; fi
wait || true
tsfw check
tsfw stop
tsfw status || echo "  (status exit code $? = stopped)"
