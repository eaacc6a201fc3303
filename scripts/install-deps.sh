#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build, demo and test tsfirewall: the system packages in
# scripts/system-packages.txt (the bench's peers through bench/peers/install.sh), then the npm dependencies (npm ci),
# then the bundle (npm run build). With --demo: only the packages the demo needs (the "demo:" lines), no peers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1-} == --demo ]]; then
  mapfile -t packages < <(sed -n 's/^demo:[[:space:]]*//p' scripts/system-packages.txt)
else
  mapfile -t packages < <(grep -Ev '^\s*(#|$|peer:)' scripts/system-packages.txt | sed 's/^demo:[[:space:]]*//')
fi
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing system packages: ${missing[*]}"
  # Some of them ship a daemon (prometheus, nats-server, sshd, fail2ban) that the tests only ever run by hand in
  # their namespaces: refuse every service start for the install (policy-rc.d exit 101), unless the machine already
  # refuses them itself.
  guard=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n $guard ]]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
# The bench's peers (peer: lines) are firewalls that must never start here: their own installer keeps them stopped.
[[ ${1-} == --demo ]] || bash bench/peers/install.sh
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then npm ci --no-audit --no-fund; fi
npm run build --silent
