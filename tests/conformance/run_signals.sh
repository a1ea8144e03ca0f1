#!/bin/sh
# softsev run stops its server whenever it is told to stop: SIGTERM while
# the server is still starting (a fresh state directory: key generation)
# ends the start; SIGHUP once the program runs is passed on to it.
# Nothing is left running either way.
# Usage: run_signals.sh SOFTSEV
set -u
echo "1..2"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
left() { pgrep -f -- "$t/$1" | wc -l; }

"$1" run --state-dir "$t/TERM" -- sleep 60 &
p=$!
sleep 0.2
kill -s TERM "$p"
wait "$p"
rc=$?
sleep 0.5
if [ "$rc" -gt 128 ] && [ "$(left TERM)" -eq 0 ]; then
	echo "ok 1 - SIGTERM while starting: status $rc, nothing left"
else
	echo "not ok 1 - SIGTERM while starting: status $rc, $(left TERM) left"
	pkill -f -- "$t/TERM"
fi

"$1" run --state-dir "$t/HUP" -- sh -c ": >$t/up; exec sleep 60" &
p=$!
i=0
while [ ! -e "$t/up" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -s HUP "$p"
wait "$p"
rc=$?
sleep 0.5
if [ "$rc" -eq 129 ] && [ "$(left HUP)" -eq 0 ]; then
	echo "ok 2 - SIGHUP reaches the program (status 129), nothing left"
else
	echo "not ok 2 - SIGHUP: status $rc, $(left HUP) left"
	pkill -f -- "$t/HUP"
fi
