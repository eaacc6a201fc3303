#!/bin/sh
# /usr/sbin/tsfirewall: runs the bundled CLI (no node_modules needed) on the distro's Node.js >= 18.19. A plain
# `start` or `start --early` first tries the cached start (cached-start.sh: one `nft -f` of the document the last
# start compiled for the same config and host, no Node); TSFIREWALL_NO_CACHED_START=1 skips it.
TSFW_LIB=${TSFIREWALL_LIB:-/usr/lib/tsfirewall}
if [ "${1-}" = start ] && { [ $# -eq 1 ] || { [ $# -eq 2 ] && [ "$2" = --early ]; }; } &&
	[ -z "${TSFIREWALL_NO_CACHED_START-}" ] && [ -r "$TSFW_LIB/cached-start.sh" ]; then
	# shellcheck source=packaging/cached-start.sh
	. "$TSFW_LIB/cached-start.sh"
	tsfw_cached_start "${2-}" && exit 0
fi
# The fleet service with V8's young generation capped, as tsfirewall-fleet.service runs it (why: that unit).
if [ "${1-}" = fleet ] && [ $# -eq 1 ]; then
	exec node --max-semi-space-size=2 "$TSFW_LIB/tsfirewall.cjs" "$@"
fi
exec node "$TSFW_LIB/tsfirewall.cjs" "$@"
