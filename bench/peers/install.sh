#!/usr/bin/env bash
# Installs the firewalls `npm run bench` and `npm run bench:fleet` time side by side (the `peer:` lines of
# scripts/system-packages.txt) without ever letting one run on this machine: service starts are refused while they
# install (Debian's policy-rc.d, which invoke-rc.d and deb-systemd-invoke obey), the packages install inside a
# throwaway network namespace (a maintainer script that loaded rules would load them there), their units are disabled
# afterwards, ferm's debconf question "enable at boot?" is answered no and crowdsec's registration with its Central
# API is skipped. netfilter-persistent cannot be installed beside ufw (ufw Breaks it), so its package is only unpacked
# under .cache/bench/peers/ for the bench to run its scripts from there.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "bench/peers/install.sh: run as root" >&2; exit 1; }
mapfile -t peers < <(sed -n 's/^peer:[[:space:]]*\([^[:space:]#]*\).*/\1/p' scripts/system-packages.txt)
missing=()
for p in "${peers[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done

if ((${#missing[@]})); then
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# bench/peers/install.sh: no service starts while the bench peers install\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo 'ferm ferm/enable boolean false' | debconf-set-selections
  # crowdsec's postinst registers with CrowdSec's Central API unless this file exists with content (README.Debian):
  # the fleet bench runs its own LAPI only, and nothing here may leave the machine.
  if [[ ! -s /etc/crowdsec/online_api_credentials.yaml ]]; then
    mkdir -p /etc/crowdsec
    echo '# no Central API: tsfirewall bench/peers/install.sh (the fleet bench runs its own LAPI only)' > /etc/crowdsec/online_api_credentials.yaml
  fi
  echo "installing the bench's peers (never started): ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --download-only "${missing[@]}" >/dev/null
  DEBIAN_FRONTEND=noninteractive unshare -n apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Whatever the packages enabled stays off; on a machine without systemd running this only removes the links.
for unit in ferm ufw shorewall firewalld crowdsec crowdsec-firewall-bouncer; do
  [[ -e /lib/systemd/system/$unit.service ]] || continue
  systemctl disable "$unit" >/dev/null 2>&1 || true
  if [[ -d /run/systemd/system ]]; then systemctl stop "$unit" >/dev/null 2>&1 || true; fi
done

nfp=.cache/bench/peers/netfilter-persistent/pkg
if [[ ! -x /usr/sbin/netfilter-persistent && ! -x $nfp/usr/sbin/netfilter-persistent ]]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq netfilter-persistent iptables-persistent 2>/dev/null)
  mkdir -p "$nfp"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$nfp"; done
  rm -rf "$tmp"
  echo "netfilter-persistent unpacked (not installed) under $nfp"
fi
