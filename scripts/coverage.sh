#!/usr/bin/env bash
# Line and branch coverage of src/kvm, src/psp and src/ccp by the unit
# tests, in a build directory of its own (default build-cov).  Branches
# that no test can reach are listed in docs/fidelity.md ("Coverage").
set -euo pipefail

dir=${1:-build-cov}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v gcovr >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "softsev: gcovr is missing: sudo apt-get install gcovr" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcovr >/dev/null
fi
[ -f "$dir/build.ninja" ] ||
	meson setup "$dir" --buildtype=debug -Db_coverage=true \
		-Dconformance=false >/dev/null
ninja -C "$dir" --quiet
# Counters of an earlier run (or of an older binary) would be summed in.
find "$dir" -name '*.gcda' -delete
meson test -C "$dir" --no-rebuild --print-errorlogs >/dev/null || {
	echo "softsev: unit tests failed, see $dir/meson-logs/testlog.txt" >&2
	exit 1
}

gcov_args=(-r . --object-directory "$dir" --exclude-unreachable-branches)
gcovr "${gcov_args[@]}" -f src/kvm/ -f src/psp/ -f src/ccp/ -b
for layer in kvm psp ccp; do
	printf '%-4s ' "$layer"
	gcovr "${gcov_args[@]}" -f "src/$layer/" -s -b |
		grep -E '^(lines|branches):' | tr '\n' ' '
	echo
done
printf 'all  '
gcovr "${gcov_args[@]}" -f src/kvm/ -f src/psp/ -f src/ccp/ -s -b |
	grep -E '^(lines|branches):' | tr '\n' ' '
echo
