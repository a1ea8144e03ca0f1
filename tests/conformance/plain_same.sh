#!/bin/sh
# A program that never touches SEV behaves the same under softsev as on
# KVM: on each backend its exits are the ones real KVM gives it (recorded
# below), and where /dev/kvm opens, also the same as without softsev.
# Usage: plain_same.sh SOFTSEV STATE_DIR PROGRAM
set -u
expected='exit io port 0x3f8 value 0x53
exit io port 0x3f8 value 0x0a
exit io port 0x10 value 0x0b
exit hlt
exit 0'
echo "1..3"
n=0
for backend in emulated host; do
	n=$((n + 1))
	if [ "$backend" = host ] && ! { [ -c /dev/kvm ] && : <>/dev/kvm; } 2>/dev/null; then
		echo "ok $n # SKIP host backend: /dev/kvm does not open here"
		continue
	fi
	b=$("$1" run --kvm=$backend --state-dir "$2" -- "$3" 2>&1; echo "exit $?")
	if [ "$b" = "$expected" ]; then
		echo "ok $n - plain KVM guest on the $backend backend: KVM's exits"
	else
		echo "not ok $n - plain KVM guest on the $backend backend differs"
		echo "# expected: $expected"
		echo "# got:      $b"
	fi
done
if { [ -c /dev/kvm ] && : <>/dev/kvm; } 2>/dev/null; then
	a=$("$3" 2>&1; echo "exit $?")
	b=$("$1" run --kvm=host --state-dir "$2" -- "$3" 2>&1; echo "exit $?")
	if [ "$a" = "$b" ]; then
		echo "ok 3 - identical with and without softsev"
	else
		echo "not ok 3 - differs without softsev: $a"
	fi
else
	echo "ok 3 # SKIP without softsev: /dev/kvm does not open here"
fi
