#!/bin/sh
# Run the benchmarks: untrapped ioctls with and without softsev, then the
# SEV operations under softsev.  Usage: bench/run.sh [BUILD_DIR]
set -eu
b=${1:-build}
s="$b/src/cli/softsev"
state=${SOFTSEV_STATE_DIR:-$(mktemp -d)}
echo "== untrapped ioctls, ns per call: without softsev"
"$b/bench/bench-untrapped" 200000
echo "== untrapped ioctls, ns per call: under softsev"
"$s" run --state-dir "$state" -- "$b/bench/bench-untrapped" 200000
echo "== SEV operations under softsev"
"$s" run --state-dir "$state" -- "$b/bench/bench-sev-ops"
