# shellcheck shell=sh
# Sourced by /usr/sbin/tsfirewall (packaging/tsfirewall.sh) for a plain `start` or `start --early`: loads the
# document the last start compiled for the same inputs with one `nft -f`, without Node, as Shorewall reuses its
# compiled script. Any doubt is a miss, and a miss returns 1 so the wrapper runs the full start, which leaves a fresh
# entry for the next time (src/state/start-cache.ts). Nothing here runs text from the config: files are hashed and
# a root-only document is handed to nft.
#
# The key covers what the document depends on: this script, the bundle, the config and its drop-ins, the backend
# choice, nft's binary, fail2ban's presence, and for a full start the host's addresses, default routes and whether
# IPv6 is on. A miss for any other reason: our table is already there (that is a reload's business), a stop saved
# bans to restore, an apply journal is left over, or the cache is not root's alone.

tsfw_cache_private() {
	# Owned by root and writable by nobody else, or it is not trusted.
	for p in "$@"; do
		[ -d "$p" ] && [ ! -L "$p" ] || return 1
		st=$(stat -c '%u %a' "$p") || return 1
		[ "${st% *}" = 0 ] || return 1
		case ${st#* } in *[2367]? | *[2367]) return 1 ;; esac
	done
}

tsfw_cache_key() {
	config=$1 mode=$2
	{
		echo "mode $mode"
		echo "backend ${TSFIREWALL_BACKEND-}"
		stat -L -c 'bundle %s %Y' "$TSFW_LIB/core.cjs" "$TSFW_LIB/cached-start.sh" "$nft"
		command -v fail2ban-server || echo 'no fail2ban'
		cat "$config"
		for f in "$config.d"/* /etc/tsfirewall.d/*; do
			[ -f "$f" ] && { echo "drop-in $f"; cat "$f"; }
		done
		if [ "$mode" = full ]; then
			ip -br addr
			ip route show default
			ip -6 route show default
			cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null
		fi
	} 2>/dev/null | sha256sum | cut -c1-64
}

# $1: "--early" or empty. Returns 0 once the cached ruleset is loaded and the result line printed.
tsfw_cached_start() {
	mode=full
	[ "${1-}" = --early ] && mode=early
	cache=${TSFIREWALL_CACHE_DIR-/var/cache/tsfirewall}
	run=${TSFIREWALL_RUN_DIR:-/run/tsfirewall}
	state=${TSFIREWALL_STATE_DIR:-/var/lib/tsfirewall}
	config=${TSFIREWALL_CONFIG:-/etc/default/tsfirewall}
	[ -n "$cache" ] && [ -f "$config" ] || return 1
	nft=$(command -v nft) || return 1
	key=$(tsfw_cache_key "$config" "$mode") || return 1
	# From here on a miss hands the key to the full start, which fills the entry.
	export TSFIREWALL_START_KEY="$key"
	entry=$cache/start/$mode-$key
	[ -f "$entry/document.nft" ] && [ -f "$entry/record.json" ] || return 1
	tsfw_cache_private "$cache" "$cache/start" "$entry" || return 1
	[ ! -e "$state/saved-bans.json" ] || return 1
	tag=$(readlink /proc/self/ns/net) || return 1
	tag=net-${tag#*[}
	tag=${tag%]}
	[ ! -e "$run/journal.$tag.json" ] || return 1
	"$nft" list table inet tsfirewall >/dev/null 2>&1 && return 1
	"$nft" -f "$entry/document.nft" 2>/dev/null || return 1
	# The record start would have written, so status and stop see this start as any other.
	{ [ -d "$run" ] || mkdir -m 0700 "$run"; } && cp "$entry/record.json" "$run/.loaded.$tag.json.$$" &&
		mv -f "$run/.loaded.$tag.json.$$" "$run/loaded.$tag.json" || echo 'tsfirewall: could not record the loaded ruleset' >&2
	cat "$entry/message"
	case $(cat "$entry/daemon") in
	queue-fail2ban) systemctl --no-block start fail2ban.service || echo 'tsfirewall: cannot queue fail2ban'"'"'s start (firewall is up, bans are not)' >&2 ;;
	esac
	return 0
}
