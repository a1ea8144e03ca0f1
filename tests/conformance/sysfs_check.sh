#!/bin/sh
# Under softsev, /sys/module/kvm_amd/parameters says what an SEV host says,
# whatever the machine has; with --no-sev-es, sev_es says N.
# Usage: sysfs_check.sh SOFTSEV STATE_DIR
set -u
echo "1..4"
p=/sys/module/kvm_amd/parameters
got=$("$1" run --state-dir "$2" -- cat $p/sev $p/sev_es $p/sev_snp 2>&1 | tr '\n' ' ')
[ "$got" = "Y Y N " ] && echo "ok 1 - sev Y, sev_es Y, sev_snp N" ||
	echo "not ok 1 - sev/sev_es/sev_snp read '$got'"
got=$("$1" run --state-dir "$2" --no-sev-es -- cat $p/sev_es 2>&1)
[ "$got" = N ] && echo "ok 2 - sev_es N on a host without SEV-ES" ||
	echo "not ok 2 - sev_es read '$got' with --no-sev-es"
got=$("$1" run --state-dir "$2" -- python3 -c \
	"print(open('$p/sev').read().strip())" 2>&1)
[ "$got" = Y ] && echo "ok 3 - fopen-style readers see it too" ||
	echo "not ok 3 - python read '$got'"
if "$1" run --state-dir "$2" -- python3 -c \
	"import os, sys; sys.exit(not os.access('$p/npt', os.R_OK))"; then
	echo "ok 4 - access() finds kvm_amd's npt"
else
	echo "not ok 4 - access() does not find $p/npt"
fi
