#!/bin/sh
# The guest owner's flow between two parties that share only files:
# a VMM (sev-launch) under `softsev run`, and an owner running `softsev
# certs|owner` outside it, as on another machine.
# usage: owner_flow.sh SOFTSEV STATE_DIR SEV_LAUNCH VECTORS_DIR [MODEL]
# With MODEL naples (API 0.16) the formats of §12.6/§12.7 before 0.17 apply.
softsev=$1 state=$2 vmm=$3 vectors=$4 model=${5:-}
run_opts="--state-dir $state${model:+ --model $model}"
t=$(mktemp -d /tmp/softsev-owner-flow.XXXXXX)
trap 'rm -rf "$t"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$1" = 0 ]; then ok "$2"; else no "$2"; fi; }

# A VMM launch in the background; $1 is its output directory.
vmm() {
	"$softsev" run $run_opts -- "$vmm" \
		--dh-cert "$t/owner/godh.b64" --session "$t/owner/session.b64" \
		--policy 0 --firmware "$t/fw.bin" --out "$1" --timeout 30 \
		>"$1.log" 2>&1
	echo $? >"$1.rc"
}

wait_file() {
	i=0
	while [ ! -f "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	[ -f "$1" ]
}

echo "1..20"
# Host: publish the platform's certificates.
"$softsev" run $run_opts -- "$softsev" certs export "$t/host" \
	>/dev/null
check $? "host exports its certificates"

# Owner: trust the chain, open a session for the PDH.
"$softsev" certs verify "$t/host" >"$t/verify.log"
check $? "owner verifies the chain"
cp "$t/host/pdh.cert" "$t/pdh.cert"

# A changed PEK key breaks exactly the links that involve it.
cp -r "$t/host" "$t/bad"
# (flip a bit: writing a fixed byte changes nothing when the key has it)
b=$(od -An -tu1 -j100 -N1 "$t/bad/pek.cert" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 1)))" |
	dd of="$t/bad/pek.cert" bs=1 seek=100 conv=notrunc 2>/dev/null
"$softsev" certs verify "$t/bad" >"$t/bad.log"
[ $? = 1 ] && grep -q '^PEK signed by OCA .*FAIL' "$t/bad.log" &&
	grep -q '^CEK signed by ASK .*ok' "$t/bad.log"
check $? "certs verify names the failing links of a tampered PEK"
"$softsev" certs verify --ark "$vectors/naples-ark.cert" "$t/host" \
	>"$t/ark.log"
[ $? = 1 ] && grep -q '^ARK is the trusted one .*FAIL' "$t/ark.log"
check $? "certs verify --ark refuses a chain to another root"
"$softsev" owner session --pdh "$t/pdh.cert" --policy 0 --out "$t/owner" \
	>/dev/null
check $? "owner makes GODH, session and keys"
[ "$(stat -c %a "$t/owner/owner.keys")" = 600 ]
check $? "owner.keys is private (0600)"

# An image that does not end on a 16-byte boundary.
head -c 40001 /dev/urandom >"$t/fw.bin"

# Launch 1: the owner sees a good measurement and releases the secret.
vmm "$t/l1" &
wait_file "$t/l1/measurement.b64"
api=$(awk '/^api/ { print $2 }' "$t/l1/platform.txt")
build=$(awk '/^build/ { print $2 }' "$t/l1/platform.txt")
"$softsev" owner verify --keys "$t/owner/owner.keys" \
	--measurement "$t/l1/measurement.b64" --api "$api" --build "$build" \
	--firmware "$t/fw.bin" >/dev/null
check $? "owner verifies the launch measurement"

# A different image must not verify.
cp "$t/fw.bin" "$t/other.bin"
printf 'x' >>"$t/other.bin"
"$softsev" owner verify --keys "$t/owner/owner.keys" \
	--measurement "$t/l1/measurement.b64" --api "$api" --build "$build" \
	--firmware "$t/other.bin" >/dev/null
[ $? = 1 ]
check $? "owner rejects the measurement for another image"

printf 'disk passphrase: correct horse' >"$t/secret.txt"
"$softsev" owner secret --keys "$t/owner/owner.keys" \
	--measurement "$t/l1/measurement.b64" --secret "$t/secret.txt" \
	--out "$t/l1" >/dev/null
check $? "owner builds the secret packet"
wait
[ "$(cat "$t/l1.rc")" = 0 ] &&
	grep -q '"disk passphrase: correct horse"' "$t/l1.log"
check $? "the secret lands in guest memory and the guest runs"

# Launch 2: a packet bound to another measurement is refused by the
# firmware (its MAC covers MEASURE), and the VMM says so.  Before API
# 0.17 the MAC leaves MEASURE out: the same session's packet opens in any
# launch, as on that firmware.
vmm "$t/l2" &
wait_file "$t/l2/measurement.b64"
"$softsev" owner secret --keys "$t/owner/owner.keys" \
	--measurement "$t/l1/measurement.b64" --secret "$t/secret.txt" \
	--out "$t/l2" >/dev/null
wait
if [ "$api" = 0.16 ]; then
	[ "$(cat "$t/l2.rc")" = 0 ] && grep -q 'correct horse' "$t/l2.log"
	check $? "API 0.16: LAUNCH_SECRET does not bind a packet to its launch"
	grep -q '^api=0.16$' "$t/owner/owner.keys"
	check $? "API 0.16: owner.keys records the PDH's API"
else
	[ "$(cat "$t/l2.rc")" = 1 ] &&
		grep -q 'SEV_LAUNCH_SECRET: .*firmware status' "$t/l2.log"
	check $? "LAUNCH_SECRET refuses a packet made for another launch"
	! grep -q 'correct horse' "$t/l2.log"
	check $? "no secret reaches the second guest"
	if [ "$(cat "$t/l2.rc")" != 1 ]; then cat "$t/l2.log" >&2; fi
fi

# The §12.11 measurement vector through the command line.
ld=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
printf 'tek=00000000000000000000000000000000\ntik=66320db73158a35a255d051758e95ed4\npolicy=0x0\n' \
	>"$t/vec.keys"
vec() {
	echo "$1" >"$t/vec.b64"
	"$softsev" owner verify --keys "$t/vec.keys" --measurement "$t/vec.b64" \
		--api 0.18 --build 0x0f --digest $ld >/dev/null
}
vec b6qy2q44m800BaBdbK/jPAQU977dC64Zul84t/0WZOpPvgvtutbIauj2iXHRA+VU
check $? "owner verify accepts the spec's measurement vector"
vec bqqy2q44m800BaBdbK/jPAQU977dC64Zul84t/0WZOpPvgvtutbIauj2iXHRA+VU
[ $? = 1 ]
check $? "owner verify rejects the vector with MEASURE bit 0 flipped"
vec b6qy2q44m800BaBdbK/jPAQU977dC64Zul84t/0WZOpPvgvtutbIauj2iXHRA+XU
[ $? = 1 ]
check $? "owner verify rejects the vector with the last MNONCE bit flipped"
"$softsev" owner verify --keys "$t/vec.keys" --measurement "$t/vec.b64" \
	--digest $ld >/dev/null 2>&1
[ $? = 2 ]
check $? "owner verify insists on the platform's API version and build"

# Real AMD chains (virtee/sev test certificates) as sevctl export writes them.
for gen in naples rome; do
	mkdir -p "$t/$gen"
	for c in ark ask cek oca pek pdh; do
		cp "$vectors/$gen-$c.cert" "$t/$gen/$c.cert"
	done
	"$softsev" certs verify "$t/$gen" >/dev/null
	check $? "certs verify accepts AMD's real $gen chain"
done
cp "$vectors/naples-ark.cert" "$t/rome/ark.cert"
cp "$vectors/naples-ask.cert" "$t/rome/ask.cert"
"$softsev" certs verify "$t/rome" >"$t/mixed.log"
[ $? = 1 ] && grep -q '^CEK signed by ASK .*FAIL' "$t/mixed.log"
check $? "a Rome CEK does not verify under Naples' ASK"

"$softsev" owner --help | grep -q '^usage: softsev owner session' &&
	"$softsev" certs --help | grep -q '^usage: softsev certs export' &&
	! "$softsev" owner frobnicate 2>/dev/null
check $? "--help prints usage and succeeds; a wrong subcommand fails"
