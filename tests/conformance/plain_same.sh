#!/bin/sh
# A program that never touches SEV behaves the same with and without
# softsev.  Usage: plain_same.sh SOFTSEV STATE_DIR PROGRAM
set -u
echo "1..1"
a=$("$3" 2>&1; echo "exit $?")
b=$("$1" run --state-dir "$2" -- "$3" 2>&1; echo "exit $?")
if [ "$a" = "$b" ] && [ "${a##*exit }" = 0 ]; then
	echo "ok 1 - plain KVM guest identical under softsev"
else
	echo "not ok 1 - plain KVM guest differs"
	echo "# without: $a"
	echo "# with:    $b"
fi
