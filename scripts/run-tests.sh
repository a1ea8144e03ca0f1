#!/usr/bin/env bash
# Run the unit tests in one or more meson build directories and end with
# one line "N passed, N failed" counting every cmocka test case.
set -uo pipefail

passed=0
failed=0
status=0
for dir in "$@"; do
	echo "== tests in $dir"
	meson test -C "$dir" --print-errorlogs
	rc=$?
	[ "$rc" -eq 0 ] || status=1
	log="$dir/meson-logs/testlog.txt"
	p=$(grep -cE '^ok [0-9]+ ' "$log")
	f=$(grep -cE '^not ok [0-9]+ ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	# A binary that crashed before reporting counts as one failure (in
	# this directory: an earlier one's failure is counted already).
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
