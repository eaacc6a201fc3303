#!/bin/bash
# Builds the distro packages from the esbuild bundle in dist/ (run `npm run build` first; `npm run package` does):
#   $TSFW_PKG_OUT/tsfirewall_<version>_<debian arch>.deb    (dpkg-deb)
#   $TSFW_PKG_OUT/tsfirewall-<version>-1.<rpm arch>.rpm     (rpmbuild)
# Per architecture, as the bundle carries koffi's binary for this machine (libnftables called in process).
# Both carry the same staged files; only paths that differ by distro convention differ (unit and init dirs).
# Environment: TSFW_VERSION (default: package.json's), TSFW_PKG_OUT (default: dist/pkg),
#              TSFW_PKG_FORMATS (default: "deb rpm"), SOURCE_DATE_EPOCH (default: last commit's time).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

die() { echo "packaging/build.sh: $*" >&2; exit 1; }

for f in tsfirewall.cjs core.cjs koffi.node winston.cjs systeminformation.cjs prom-client.cjs nats.cjs tsfirewall.8 tsfirewall.bash-completion; do
	[ -f "dist/$f" ] || die "dist/$f is missing: run npm run build"
done
version=${TSFW_VERSION:-$(node -p 'require("./package.json").version')}
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || die "version '$version' is not valid for both dpkg and rpm"
out=${TSFW_PKG_OUT:-$root/dist/pkg}
formats=${TSFW_PKG_FORMATS:-deb rpm}
# The architecture koffi.node was built for: the machine's (scripts/bundle.mjs copies the binary for it).
rpm_arch=$(uname -m)
case $rpm_arch in
	x86_64) deb_arch=amd64 ;; aarch64) deb_arch=arm64 ;; armv7l) deb_arch=armhf ;; i686) deb_arch=i386 ;;
	*) deb_arch=$(dpkg --print-architecture 2>/dev/null) || die "no Debian architecture name for $rpm_arch" ;;
esac
maintainer="tsfirewall maintainers <maintainers@users.noreply.r-seed-cf72def7.example>"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
# The bundle must start on the Node it was built for before it is shipped anywhere.
TSFIREWALL_CACHE_DIR='' node dist/tsfirewall.cjs --version >/dev/null || die "the bundle in dist/ does not run"

work=$(mktemp -d /tmp/tsfw-pkg.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# Files common to both packages, under $1; $2 is the systemd unit dir, $3 the init script dir, $4 the doc dir
# that receives the copyright file.
stage() {
	local dest=$1 unitdir=$2 initdir=$3 copyright=$4
	# The entry and the CLI it compiles with a code cache (kept in /var/cache/tsfirewall, made at run time).
	install -D -m 0644 dist/tsfirewall.cjs "$dest/usr/lib/tsfirewall/tsfirewall.cjs"
	install -D -m 0644 dist/core.cjs "$dest/usr/lib/tsfirewall/core.cjs"
	# koffi's native module, through which the nftables backend calls libnftables in process; stripped, as the
	# distributions' own build helpers strip what they ship.
	install -D -m 0644 dist/koffi.node "$dest/usr/lib/tsfirewall/koffi.node"
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$dest/usr/lib/tsfirewall/koffi.node"
	# Dependencies off the hot path, which core.cjs requires on first use.
	install -D -m 0644 dist/winston.cjs "$dest/usr/lib/tsfirewall/winston.cjs"
	install -D -m 0644 dist/systeminformation.cjs "$dest/usr/lib/tsfirewall/systeminformation.cjs"
	install -D -m 0644 dist/prom-client.cjs "$dest/usr/lib/tsfirewall/prom-client.cjs"
	# The NATS client, for the fleet service only.
	install -D -m 0644 dist/nats.cjs "$dest/usr/lib/tsfirewall/nats.cjs"
	install -D -m 0755 packaging/tsfirewall.sh "$dest/usr/sbin/tsfirewall"
	# The cached start the launcher tries first for a plain start (src/state/start-cache.ts writes its entries).
	install -D -m 0644 packaging/cached-start.sh "$dest/usr/lib/tsfirewall/cached-start.sh"
	install -D -m 0644 systemd/tsfirewall.service "$dest$unitdir/tsfirewall.service"
	# The boot-time step before the network (tsfirewall start --early); the main unit names it in Also=.
	install -D -m 0644 systemd/tsfirewall-early.service "$dest$unitdir/tsfirewall-early.service"
	# The address watcher (tsfirewall watch): reloads the rules when a lease moves the address; also in Also=.
	install -D -m 0644 systemd/tsfirewall-watch.service "$dest$unitdir/tsfirewall-watch.service"
	# Metrics for node_exporter's textfile collector, every minute; also in Also=.
	install -D -m 0644 systemd/tsfirewall-metrics.service "$dest$unitdir/tsfirewall-metrics.service"
	install -D -m 0644 systemd/tsfirewall-metrics.timer "$dest$unitdir/tsfirewall-metrics.timer"
	# The network blocklists' refresh (tsfirewall blocklist refresh) and its timer; the timer is in Also= too.
	install -D -m 0644 systemd/tsfirewall-blocklist.service "$dest$unitdir/tsfirewall-blocklist.service"
	install -D -m 0644 systemd/tsfirewall-blocklist.timer "$dest$unitdir/tsfirewall-blocklist.timer"
	install -D -m 0644 systemd/tsfirewall-fleet.service "$dest$unitdir/tsfirewall-fleet.service"
	# A static alias, so iptables.service means tsfirewall.service even while the unit is not enabled
	# (otherwise systemd would generate an iptables.service from the init script of the same name).
	ln -s tsfirewall.service "$dest$unitdir/iptables.service"
	install -D -m 0755 init.d/iptables "$dest$initdir/iptables"
	install -D -m 0644 packaging/tsfirewall.default "$dest/etc/default/tsfirewall"
	# Drop-ins (*.conf) and raw snippets (NAME.POINT.nft|rules|rules6): root's alone, as the main config is.
	install -d -m 0755 "$dest/etc/tsfirewall.d"
	mkdir -p "$dest/usr/share/man/man8" "$dest/usr/share/doc/tsfirewall" "$copyright"
	# Made by `npm run build` from packaging/tsfirewall.8.in and the command table, as the completion is.
	gzip -9n <dist/tsfirewall.8 >"$dest/usr/share/man/man8/tsfirewall.8.gz"
	chmod 0644 "$dest/usr/share/man/man8/tsfirewall.8.gz"
	install -D -m 0644 dist/tsfirewall.bash-completion "$dest/usr/share/bash-completion/completions/tsfirewall"
	install -m 0644 packaging/README.md "$dest/usr/share/doc/tsfirewall/README.md"
	node packaging/licenses.mjs "$copyright/copyright"
	chmod 0644 "$copyright/copyright"
}

# CHANGES -> entries "version|date|text lines" (a build of a version CHANGES lacks gets a one-line entry).
changes() {
	if ! grep -q "^$version " packaging/CHANGES; then
		printf '%s|%s|- Local build %s of the current tree.\n' "$version" "$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)" "$version"
	fi
	awk '/^#/ || /^$/ { next } /^[0-9]/ { if (v) print v "|" d "|" t; v = $1; d = $2; t = ""; next }
		{ t = t (t ? "\\n" : "") $0 } END { if (v) print v "|" d "|" t }' packaging/CHANGES
}

deb_changelog() {
	local v d t
	while IFS='|' read -r v d t; do
		printf 'tsfirewall (%s) unstable; urgency=medium\n\n' "$v"
		printf '%b\n' "$t" | sed -e 's/^- /  * /' -e 's/^  \([^ *]\)/    \1/'
		printf '\n -- %s  %s\n\n' "$maintainer" "$(date -u -R -d "$d 12:00")"
	done < <(changes)
}

rpm_changelog() {
	local v d t
	while IFS='|' read -r v d t; do
		printf '* %s %s - %s-1\n' "$(date -u -d "$d" '+%a %b %d %Y')" "$maintainer" "$v"
		printf '%b\n\n' "$t" | sed -e 's/^  /  /'
	done < <(changes)
}

# The libraries koffi.node links (libc, libstdc++...) as Debian dependencies, from dpkg-shlibdeps (its warnings
# name the N-API symbols, which node itself provides).
deb_shlibs() {
	local dir
	dir=$(mktemp -d "$work/shlibs.XXXXXX")
	mkdir "$dir/debian"
	printf 'Source: tsfirewall\n\nPackage: tsfirewall\nArchitecture: any\n' >"$dir/debian/control"
	(cd "$dir" && dpkg-shlibdeps -O -e "$1" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

build_deb() {
	local tree=$work/deb
	stage "$tree" /lib/systemd/system /etc/init.d "$tree/usr/share/doc/tsfirewall"
	# Debian still boots without systemd (sysvinit-core): there cron writes the metrics. Fedora and EL always run
	# systemd, so the rpm has the timer only.
	install -D -m 0644 packaging/tsfirewall-metrics.cron "$tree/etc/cron.d/tsfirewall-metrics"
	deb_changelog | sed -e '$ d' | gzip -9n >"$tree/usr/share/doc/tsfirewall/changelog.gz"
	install -D -m 0644 packaging/deb/lintian-overrides "$tree/usr/share/lintian/overrides/tsfirewall"
	mkdir -p "$tree/DEBIAN"
	install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$tree/DEBIAN/"
	install -m 0644 packaging/deb/conffiles "$tree/DEBIAN/conffiles"
	(cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$tree/DEBIAN/md5sums"
	local size shlibs
	size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
	shlibs=$(deb_shlibs "$tree/usr/lib/tsfirewall/koffi.node")
	sed -e "s/@VERSION@/$version/" -e "s/@MAINTAINER@/$maintainer/" -e "s/@INSTALLED_SIZE@/$size/" -e "s/@ARCH@/$deb_arch/" -e "s/@SHLIBS@/$shlibs/" \
		packaging/deb/control.in >"$tree/DEBIAN/control"
	chmod 0644 "$tree/DEBIAN/md5sums" "$tree/DEBIAN/control"
	find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	dpkg-deb --root-owner-group -Zxz --build "$tree" "$out/tsfirewall_${version}_${deb_arch}.deb" >/dev/null
	echo "$out/tsfirewall_${version}_${deb_arch}.deb"
}

build_rpm() {
	local tree=$work/rpmroot top=$work/rpmbuild
	stage "$tree" /usr/lib/systemd/system /etc/rc.d/init.d "$tree/usr/share/licenses/tsfirewall"
	# %ghost entries must exist in the build root; rpm records them without installing them.
	mkdir -p "$tree/etc/fail2ban/jail.d" "$tree/etc/fail2ban/action.d"
	touch "$tree/etc/fail2ban/jail.d/tsfirewall.conf" "$tree/etc/fail2ban/action.d/tsfirewall-ipset.conf" \
		"$tree/etc/fail2ban/action.d/tsfirewall-chain.conf" "$tree/etc/fail2ban/action.d/tsfirewall-fleet.conf"
	mkdir -p "$top"
	awk -v v="$version" -v cl="$(rpm_changelog)" '{ gsub(/@VERSION@/, v); if ($0 == "@CHANGELOG@") print cl; else print }' \
		packaging/rpm/tsfirewall.spec.in >"$work/tsfirewall.spec"
	rpmbuild -bb --quiet --target "$rpm_arch" --define "_topdir $top" --define "stagedir $tree" --define "_rpmdir $out" \
		--define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
		--define 'use_source_date_epoch_as_buildtime 1' --define 'clamp_mtime_to_source_date_epoch 1' \
		--define '_buildhost tsfirewall-build' --define "packager $maintainer" \
		--define '__os_install_post %{nil}' \
		"$work/tsfirewall.spec" >/dev/null
	cp "$work/tsfirewall.spec" "$out/tsfirewall.spec"
	echo "$out/tsfirewall-${version}-1.${rpm_arch}.rpm"
}

for format in $formats; do
	case $format in
		deb) build_deb ;;
		rpm) build_rpm ;;
		*) die "unknown package format '$format' (deb, rpm)" ;;
	esac
done
