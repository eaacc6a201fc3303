#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build, demo and test tsfirewall: the system packages in
# scripts/system-packages.txt (the bench's peers through bench/peers/install.sh), then the npm dependencies (npm ci),
# then the bundle (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t packages < <(grep -Ev '^\s*(#|$|peer:)' scripts/system-packages.txt)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  # Daemons among them (nats-server, sshd, fail2ban) are run by the tests by hand inside their namespaces, never as
  # this machine's services: refuse every service start while installing (an existing policy is left as it is).
  guard=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n $guard ]]; then rm -f /usr/sbin/policy-rc.d; fi
fi
# The bench's peers (peer: lines) are firewalls that must never start here: their own installer keeps them stopped.
bash bench/peers/install.sh
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then npm ci --no-audit --no-fund; fi
npm run build --silent
