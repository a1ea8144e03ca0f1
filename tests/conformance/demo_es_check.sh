#!/bin/sh
# softsev demo --es as CI runs it: the SEV-ES guest on the emulated KVM,
# its #VC handler and GHCB, and the launch measurement over the image and
# the VMSAs the owner predicted.
# usage: demo_es_check.sh SOFTSEV
softsev=$1
t=$(mktemp -d /tmp/softsev-demo-es-check.XXXXXX)
trap 'rm -rf "$t"' EXIT
n=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

echo "1..16"
"$softsev" demo --es --keep "$t/k" >"$t/out" 2>"$t/err"
check $? "softsev demo --es exits 0"
ok=0
for step in 1 2 3 4 5 6 7 8; do grep -q "^$step " "$t/out" || ok=1; done
check $ok "every step 1-8 printed a line"
! grep -q "FAILED" "$t/out"
check $? "no step failed"
grep -q "^3 vmm@A  SEV-ES VM (KVM_SEV_INIT2).*LAUNCH_UPDATE_VMSA of the guest's and the mirror helper's vCPU" "$t/out"
check $? "step 3: an SEV-ES VM, both vCPUs' VMSAs in the launch"
grep -q "^3 owner .*policy 0x4 (SEV-ES).*VMSA, which the owner predicted byte for byte.*the measurement matches" "$t/out"
check $? "step 3: the owner's measurement with its predicted VMSAs matches"
grep -q "^4 vmm@A .*emulated KVM.*SEV_STATUS 0x3 (SEV-ES), and its C-bit (bit [0-9]*) maps the same page" "$t/out"
check $? "step 4: the guest found SEV_STATUS 3 and its C-bit itself"
grep -q "^4 vmm@A .*#VC handler and the GHCB.*TERM_REQ (KVM_EXIT_SYSTEM_EVENT SEV_TERM, GHCB MSR 0x1100)" "$t/out"
check $? "step 4: port I/O through the GHCB, then TERM_REQ as KVM_EXIT_SYSTEM_EVENT"
grep -q "^4 owner .*is the hash of the secret" "$t/out"
check $? "step 4: the owner confirmed the SEV-ES guest's answer"
grep -q "^5 vmm@A .*pages to \([0-9a-f]*\), DBG_DECRYPT of them gives \1" "$t/out"
check $? "step 5: the mirror's helper, launched with the guest, hashed its pages"
grep -q "^6 vmm@A .*old VM answers EIO.*EINVAL.*Q7.*VMSA went with the context" "$t/out"
check $? "step 6: MOVE of the SEV-ES VM"
grep -q "^7 vmm@A .*SEND_UPDATE_VMSA: Invalid argument.*now SENT" "$t/out" &&
	grep -q "^7 vmm@B .*digest [0-9a-f]* matches; the SEV-ES guest is not resumed" "$t/out"
check $? "step 7: the memory reaches B; KVM has no SEND_UPDATE_VMSA"

# The owner's side by hand, on the files the demo kept.
k=$t/k
"$softsev" owner vmsa --entry 0x1000 --stack 0xf000 >"$t/guest.vmsa" &&
	"$softsev" owner vmsa --entry 0x2000 --stack 0xe000 --no-fpu --out "$t/helper.vmsa" &&
	cmp -s "$t/guest.vmsa" "$k/owner/vmsa_guest.bin" &&
	cmp -s "$t/helper.vmsa" "$k/owner/vmsa_helper.bin"
check $? "softsev owner vmsa gives the VMSAs the demo's owner predicted"
set -- $(cat "$k/platform.txt")
verify() {
	"$softsev" owner verify --keys "$k/owner/owner.keys" \
		--measurement "$k/measurement.b64" --api "$1.$2" --build "$3" \
		--firmware "$k/guest.img" --vmsa "$4" --vmsa "$5" >"$t/verify" 2>&1
}
verify "$1" "$2" "$3" "$t/guest.vmsa" "$t/helper.vmsa"
check $? "softsev owner verify --vmsa accepts the launch"
"$softsev" owner vmsa --entry 0x1001 --stack 0xf000 >"$t/other.vmsa"
! verify "$1" "$2" "$3" "$t/other.vmsa" "$t/helper.vmsa" &&
	grep -q "does NOT match" "$t/verify"
check $? "a VMSA one byte off (RIP 0x1001) does not verify"

"$softsev" demo --es --json >"$t/json" 2>&1
lines=$(wc -l <"$t/json")
good=$(grep -c '^{"step":[0-9],"actor":"[a-z@AB]*","ok":true,' "$t/json")
[ "$lines" -ge 12 ] && [ "$lines" = "$good" ]
check $? "--es --json: one object per step, every one ok ($good/$lines)"

"$softsev" demo --es --legacy-init >/dev/null 2>"$t/legacy"
[ $? = 2 ] && grep -q "nothing to run on" "$t/legacy"
check $? "--es with --legacy-init is refused with its reason"
