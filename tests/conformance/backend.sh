#!/bin/sh
# Run a conformance program under softsev on one KVM backend.
# Usage: backend.sh host|emulated SOFTSEV [softsev run options] -- PROG...
# The host backend needs a /dev/kvm that opens; without one the test is
# skipped with the reason (the emulated run of the same program still
# runs everywhere).
set -u
backend=$1
softsev=$2
shift 2
if [ "$backend" = host ] && ! { [ -c /dev/kvm ] && : <>/dev/kvm; } 2>/dev/null; then
	echo "1..0 # SKIP host backend: /dev/kvm does not open on this machine"
	exit 0
fi
exec "$softsev" run --kvm="$backend" "$@"
