#!/bin/sh
# firewalld's start as its unit runs it (Type=dbus: started when it is on the bus), timed until firewalld itself
# says it is RUNNING, i.e. its ruleset is loaded: its state property, asked over D-Bus with dbus-send (a small C
# program) every 5 ms, at most 2000 times. firewalld stays running (its pid in /run/firewalld/bench.pid) until the
# bench stops it; its output goes to its private log.
firewalld --nofork --nopid --log-file /run/firewalld/log </dev/null >/dev/null 2>&1 &
echo $! > /run/firewalld/bench.pid
i=0
while [ $i -lt 2000 ]; do
  state=$(dbus-send --system --print-reply=literal --dest=org.fedoraproject.FirewallD1 /org/fedoraproject/FirewallD1 \
    org.freedesktop.DBus.Properties.Get string:org.fedoraproject.FirewallD1 string:state 2>/dev/null) || state=
  case "$state" in *RUNNING*) exit 0 ;; *FAILED*) echo "firewalld failed" >&2; exit 1 ;; esac
  kill -0 "$(cat /run/firewalld/bench.pid)" 2>/dev/null || { echo "firewalld exited" >&2; exit 1; }
  sleep 0.005
  i=$((i + 1))
done
echo "firewalld not running after 2000 polls" >&2
exit 1
