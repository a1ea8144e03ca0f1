#!/bin/sh
# softsev demo as CI runs it: every step, both init flavours, JSON Lines.
# usage: demo_check.sh SOFTSEV
softsev=$1
t=$(mktemp -d /tmp/softsev-demo-check.XXXXXX)
trap 'rm -rf "$t"' EXIT
n=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

echo "1..10"
"$softsev" demo >"$t/out" 2>"$t/err"
check $? "softsev demo exits 0"
ok=0
for step in 1 2 3 4 5 6 7 8; do grep -q "^$step " "$t/out" || ok=1; done
check $ok "every step 1-8 printed a line"
! grep -q "FAILED" "$t/out"
check $? "no step failed"
grep -q "^7 vmm@B .*matches.*ticked 3 -> 4" "$t/out"
check $? "the guest resumed on platform B with its memory intact"
grep -q "^6 vmm@A .*EINVAL.*Q7" "$t/out"
check $? "step 6 shows KVM_RUN EINVAL on a KVM_SEV_INIT2 destination (Q7)"
if grep -q "^4 vmm@A .*emulated KVM" "$t/out"; then
	grep -q "^4 vmm@A .*SEV_STATUS 0x1 (SEV), and its C-bit (bit [0-9]*) maps the same page" "$t/out"
else
	grep -q "^4 vmm@A .*a plain KVM guest there" "$t/out"
fi
check $? "the guest checked SEV_STATUS and its C-bit itself (emulated KVM; a plain guest on the host's)"

"$softsev" demo --legacy-init >"$t/legacy" 2>&1
check $? "softsev demo --legacy-init exits 0"
grep -q "^6 vmm@A .*ticked on from 3 to 4" "$t/legacy"
check $? "with KVM_SEV_INIT the guest runs on in the moved-to VM"

"$softsev" demo --json >"$t/json" 2>&1
lines=$(wc -l <"$t/json")
good=$(grep -c '^{"step":[0-9],"actor":"[a-z@AB]*","ok":true,' "$t/json")
[ "$lines" -ge 12 ] && [ "$lines" = "$good" ]
check $? "--json: one object per step, every one ok ($good/$lines)"

"$softsev" demo --bogus >/dev/null 2>"$t/bad"
[ $? = 2 ] && grep -q "usage: softsev demo" "$t/bad"
check $? "an unknown option is refused with the usage (--es: demo_es_check.sh)"
