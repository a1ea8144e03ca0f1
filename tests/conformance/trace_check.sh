#!/bin/sh
# The trace of the example client tells the story of the launch.
# Usage: trace_check.sh SOFTSEV STATE_DIR SEV_EXAMPLE
set -u
echo "1..6"
t=$(mktemp)
"$1" run --kvm=emulated --state-dir "$2" --trace="$t" -- "$3" > /dev/null 2>&1
n=0
check() {
	n=$((n + 1))
	if grep -q -- "$1" "$t"; then
		echo "ok $n - trace shows $1"
	else
		echo "not ok $n - trace lacks $1"
		sed 's/^/# /' "$t"
	fi
}
check "KVM_CREATE_VM type=sev -> vm#"
# Which KVM runs the VM is said.
check "KVM_CREATE_VM type=sev -> vm#1 (emulated KVM)"
check "KVM_SEV_LAUNCH_START policy=0x0 owner-session=no handle="
check "KVM_SEV_LAUNCH_MEASURE len=48 (length query) -> -1 EIO (firmware INVALID_LEN)"
check "KVM_ENABLE_CAP MOVE_ENC_CONTEXT_FROM (migrate) from vm#1 -> 0"
# An answer the shim gives alone (the moved-from VM) is in the trace too.
check "vm#1 KVM_MEMORY_ENCRYPT_OP -> -1 EIO (kvm_vm_dead"
rm -f "$t"
