#!/bin/sh
# A short fuzzing run as a TAP test: FUZZ_SECONDS (default 15) per target,
# starting from the seed corpus; any crash fails it and leaves the input.
set -u
exe=$1
seeds=$2
t=${FUZZ_SECONDS:-15}
work=$(mktemp -d)
echo "1..1"
if "$exe" -max_total_time="$t" -max_len=8192 -timeout=20 \
	-artifact_prefix="$work/" "$work" "$seeds" > "$work/log" 2>&1; then
	echo "ok 1 - $(basename "$exe") ran ${t}s without a failure"
	rm -rf "$work"
else
	rc=$?
	# the reason on the result line, so a short CI excerpt still says it
	why=$(grep -m1 '^SUMMARY:' "$work/log" || echo "exit $rc")
	echo "not ok 1 - $(basename "$exe") found a failure: $why (inputs in $work)"
	tail -n 40 "$work/log" | sed 's/^/# /'
fi
