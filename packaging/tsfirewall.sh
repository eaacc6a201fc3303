#!/bin/sh
# /usr/sbin/tsfirewall: runs the bundled CLI (no node_modules needed) on the distro's Node.js >= 18.19.
exec node /usr/lib/tsfirewall/tsfirewall.cjs "$@"
