#!/bin/sh
# Debian's QEMU launches an SEV guest with Debian's OVMF under softsev,
# on the emulated KVM, driven through QMP; the guest owner is on the other
# side of files only (softsev certs|owner, outside softsev run).
# usage: qemu_launch.sh SOFTSEV STATE_DIR QMP_PY [--strict-memory]
# With --strict-memory the guest's private memory is ciphertext in QEMU's
# buffers (docs/fidelity.md V27): the injected secret must not be there in
# plaintext, and OVMF must still get as far.
softsev=$1 state=$2 qmp=$3 mode=${4:---kvm=emulated}
qemu=${QEMU:-qemu-system-x86_64}
ovmf=${OVMF:-/usr/share/ovmf/OVMF.fd}
if ! command -v "$qemu" >/dev/null || [ ! -r "$ovmf" ]; then
	echo "1..0 # SKIP no $qemu or $ovmf: apt-get install qemu-system-x86 ovmf (scripts/bootstrap.sh does)"
	exit 0
fi
t=$(mktemp -d /tmp/softsev-qemu.XXXXXX)
sock=$t/qmp.sock
trap 'kill $qpid 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$1" = 0 ]; then ok "$2"; else no "$2"; fi; }
q() { python3 "$qmp" "$sock" "$@"; }
hmp() { q human-monitor-command "{\"command-line\": \"$1\"}"; }

echo "1..17"
# Host: publish the certificates.  Owner: a session for the PDH.
"$softsev" run --state-dir "$state" -- "$softsev" certs export "$t/host" \
	>/dev/null &&
	"$softsev" owner session --pdh "$t/host/pdh.cert" --policy 0 \
		--out "$t/owner" >/dev/null
check $? "host exports certificates, owner makes GODH and session"

# Host: QEMU with the owner's files, stopped before the first instruction.
args=$("$softsev" qemu-args --kvm=emulated --policy 0 \
	--dh-cert-file "$t/owner/godh.b64" --session-file "$t/owner/session.b64")
# shellcheck disable=SC2086 # qemu-args prints separate options
"$softsev" run --state-dir "$state" "$mode" --trace="$t/trace" -- \
	"$qemu" -machine q35 $args -m 256 -display none -S -bios "$ovmf" \
	-qmp "unix:$sock,server=on,wait=off" >"$t/qemu.log" 2>&1 &
qpid=$!
q query-status --get status >"$t/status"
grep -qx prelaunch "$t/status"
check $? "QEMU's KVM and SEV initialisation pass; stopped (-S)"
if [ "$(cat "$t/status")" != prelaunch ]; then
	sed 's/^/# /' "$t/qemu.log"
	exit 1
fi

grep -q 'KVM_SEV_LAUNCH_START policy=0x0 owner-session=yes .* -> 0' "$t/trace" &&
	grep -q "KVM_SEV_LAUNCH_UPDATE_DATA .* len=$(stat -c %s "$ovmf") -> 0" "$t/trace"
check $? "LAUNCH_START with the owner's session, LAUNCH_UPDATE_DATA of the whole firmware"

q query-sev >"$t/sev.json"
grep -q '"enabled": true' "$t/sev.json" &&
	grep -q '"state": "launch-secret"' "$t/sev.json" &&
	grep -q '"policy": 0' "$t/sev.json"
check $? "query-sev: enabled, launch-secret, policy 0"

q query-sev-capabilities --get pdh >"$t/pdh.b64" &&
	q query-sev-capabilities --get cert-chain >"$t/chain.b64" &&
	q query-sev-capabilities --get cbitpos >"$t/cbit"
cmp -s "$t/pdh.b64" "$t/host/pdh.b64" && cmp -s "$t/chain.b64" "$t/host/cert_chain.b64"
check $? "query-sev-capabilities: the platform's PDH and certificate chain"
echo "$args" | grep -q "cbitpos=$(cat "$t/cbit")," &&
	[ "$(q query-sev-capabilities --get reduced-phys-bits)" = 1 ]
check $? "query-sev-capabilities: cbitpos and reduced-phys-bits as qemu-args printed"

# Host → owner: the measurement and the platform's version.
q query-sev-launch-measure --get data >"$t/measurement.b64"
check $? "query-sev-launch-measure"
api="$(q query-sev --get api-major).$(q query-sev --get api-minor)"
build=$(q query-sev --get build-id)

"$softsev" owner verify --keys "$t/owner/owner.keys" \
	--measurement "$t/measurement.b64" --api "$api" --build "$build" \
	--firmware "$ovmf" >"$t/verify.log"
check $? "owner verify accepts the measurement for $ovmf"
cp "$ovmf" "$t/other.fd"
printf 'X' | dd of="$t/other.fd" bs=1 seek=4096 conv=notrunc 2>/dev/null
"$softsev" owner verify --keys "$t/owner/owner.keys" \
	--measurement "$t/measurement.b64" --api "$api" --build "$build" \
	--firmware "$t/other.fd" >/dev/null
[ $? = 1 ]
check $? "owner verify refuses it for a changed image"

printf 'disk passphrase: correct horse' >"$t/secret.txt"
"$softsev" owner secret --keys "$t/owner/owner.keys" \
	--measurement "$t/measurement.b64" --secret "$t/secret.txt" \
	--out "$t/launch" >/dev/null
check $? "owner builds the secret packet"

hdr=$(cat "$t/launch/secret_header.b64")
payload=$(cat "$t/launch/secret_payload.b64")
# A header whose MAC is broken: the firmware refuses it, QMP says so.
bad=$(echo "$hdr" | base64 -d | python3 -c \
	'import sys,base64; b=bytearray(sys.stdin.buffer.read()); b[40]^=1; print(base64.b64encode(b).decode())')
! q sev-inject-launch-secret \
	"{\"packet-header\": \"$bad\", \"secret\": \"$payload\", \"gpa\": 1048576}" \
	2>"$t/bad.err" && grep -q 'KVM_SEV_LAUNCH_SECRET -> -1 EIO' "$t/trace"
check $? "sev-inject-launch-secret refuses a tampered packet"
q sev-inject-launch-secret \
	"{\"packet-header\": \"$hdr\", \"secret\": \"$payload\", \"gpa\": 1048576}" \
	>/dev/null
check $? "sev-inject-launch-secret"
if [ "$mode" = --strict-memory ]; then
	hmp "xp /8c 0x100000" >"$t/xp"
	grep -q '^0*100000:' "$t/xp" &&
		! grep -q "'d' 'i' 's' 'k' ' ' 'p' 'a' 's'" "$t/xp"
	check $? "strict memory: the secret is ciphertext in QEMU's guest memory"
else
	hmp "xp /8c 0x100000" | grep -q "'d' 'i' 's' 'k' ' ' 'p' 'a' 's'"
	check $? "the secret is in guest memory at the gpa"
fi

# The guest runs: LAUNCH_FINISH, then OVMF from the reset vector.
t0=$(date +%s)
q cont >/dev/null && grep -q 'KVM_SEV_LAUNCH_FINISH -> 0' "$t/trace" &&
	[ "$(q query-sev --get state)" = running ]
check $? "cont: LAUNCH_FINISH, query-sev says running"
# How far the firmware gets (README, "How far cont gets"): 64-bit mode
# in SEC/PEI, then DXE, whose page tables turn on EFER.NXE.
# Strict memory makes each exit after private writes a round trip to
# softsevd: OVMF needs 16-80 s to DXE on a loaded 2-core machine.
limit=180
[ "$mode" = --strict-memory ] && limit=720
reached() {
	i=0
	while [ $i -lt $limit ]; do
		hmp "info registers" >"$t/regs"
		grep -q "$1" "$t/regs" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
reached 'CS =.*CS64'
check $? "OVMF leaves the reset vector and reaches 64-bit mode"
reached 'EFER=0000000000000d00'
check $? "OVMF reaches its DXE phase (EFER.NXE set by the DXE IPL)"
echo "# from cont to DXE: about $(($(date +%s) - t0)) s ($mode)"
echo "# QEMU's status now: $(q query-status --get status)"
grep -E '^(RIP|CR0)=' "$t/regs" | sed 's/^/# /'

q quit >/dev/null
wait $qpid
check $? "quit: QEMU exits 0"
