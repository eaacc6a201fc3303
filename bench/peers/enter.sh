#!/bin/sh
# enter.sh [bind SRC DST | tmpfs DIR]... -- PROGRAM [ARG]...: the bench starts a peer's timing agent through this,
# inside `unshare -m --propagation private` in the peer's network namespace, so the peer reads and writes private
# copies of its /etc and /var paths (bind mounts) and a private /run (tmpfs) that no other process sees; nothing
# mounted here propagates to this machine's own mount namespace.
set -e
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    bind) mount --bind "$2" "$3"; shift 3 ;;
    tmpfs) mount -t tmpfs -o mode=0755 tmpfs "$2"; shift 2 ;;
    *) echo "enter.sh: unknown mount kind $1" >&2; exit 2 ;;
  esac
done
[ "$1" = "--" ] || { echo "enter.sh: no -- before the program" >&2; exit 2; }
shift
exec "$@"
