#!/bin/sh
# Run the benchmarks: untrapped ioctls with and without softsev (only where
# there is a /dev/kvm), the SEV operations under softsev, then the emulated
# KVM against Unicorn driven directly.  Usage: bench/run.sh [BUILD_DIR]
set -eu
b=${1:-build}
s="$b/src/cli/softsev"
state=${SOFTSEV_STATE_DIR:-$(mktemp -d)}
if [ -e /dev/kvm ]; then
	echo "== untrapped ioctls, ns per call: without softsev"
	"$b/bench/bench-untrapped" 200000
	echo "== untrapped ioctls, ns per call: under softsev"
	"$s" run --state-dir "$state" -- "$b/bench/bench-untrapped" 200000
else
	echo "== untrapped ioctls: skipped, no /dev/kvm"
fi
echo "== SEV operations under softsev"
"$s" run --state-dir "$state" -- "$b/bench/bench-sev-ops"
echo "== emulated KVM (vkvm) against Unicorn driven directly"
u=$("$b/bench/bench-unicorn")
v=$("$s" run --kvm=emulated --state-dir "$state" -- "$b/bench/bench-vkvm")
printf '%s\n%s\n' "$u" "$v"
printf '%s\n%s\n' "$u" "$v" | awk '
	{ split($2, m, "="); f[$1] = m[2] }
	END {
		printf "vkvm/unicorn io_roundtrip median: %.2fx (target <= 1.2x)\n",
		       f["vkvm.io_roundtrip_us"] / f["unicorn.io_roundtrip_us"]
		printf "vkvm/unicorn guest_mips median: %.2fx (target >= 0.9x)\n",
		       f["vkvm.guest_mips"] / f["unicorn.guest_mips"]
	}'
echo "== a TLB miss in a plain and an SEV VM (vkvm's fill hook)"
"$s" run --kvm=emulated --state-dir "$state" -- "$b/bench/bench-vkvm-tlb"
echo "== a #VC in a protected (SEV-ES) guest, vkvm alone"
"$b/bench/bench-vkvm-vc"
