#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks to build and test softsev.
# As root it installs with apt-get; otherwise it says what is missing.
set -euo pipefail

packages=(gcc make meson ninja-build pkg-config libssl-dev libcmocka-dev
	  libjson-c-dev clang libclang-rt-14-dev libunicorn-dev libcapstone-dev
	  gcovr qemu-system-x86 ovmf)
# The sanitizer runs use gcc's runtimes; the fuzz targets need clang and
# its libFuzzer runtime (libclang-rt-14-dev); make coverage needs gcovr.
# The emulated KVM (vkvm) needs Unicorn >= 2.1: Debian 12 has 2.0.1, which cannot run paged
# guests, so libunicorn-dev comes from Debian 13 (trixie), pinned so that
# nothing else is taken from there (it depends only on libc6 >= 2.34).
# Debian's QEMU and OVMF are what tests/conformance/qemu_launch.sh runs.

unicorn_ok() {
	pkg-config --atleast-version=2.1 unicorn 2>/dev/null
}

add_trixie_unicorn() {
	[ -e /etc/apt/sources.list.d/softsev-trixie.sources ] && return 0
	echo "softsev: adding Debian trixie's apt source for Unicorn 2.1 only"
	cat >/etc/apt/sources.list.d/softsev-trixie.sources <<-EOF
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: trixie
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	cat >/etc/apt/preferences.d/softsev-unicorn <<-EOF
	Package: *
	Pin: release n=trixie
	Pin-Priority: -1

	Package: libunicorn-dev libunicorn2t64
	Pin: release n=trixie
	Pin-Priority: 990
	EOF
}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
unicorn_ok || missing+=(libunicorn-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "softsev: missing packages: ${missing[*]}" >&2
	echo "softsev: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "softsev: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
unicorn_ok || add_trixie_unicorn
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
