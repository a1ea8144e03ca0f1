#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks to build and test softsev.
# As root it installs with apt-get; otherwise it says what is missing.
set -euo pipefail

packages=(gcc make meson ninja-build pkg-config libssl-dev libcmocka-dev
	  libjson-c-dev clang libclang-rt-14-dev)
# The sanitizer runs use gcc's runtimes; the fuzz targets need clang and
# its libFuzzer runtime (libclang-rt-14-dev).

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "softsev: missing packages: ${missing[*]}" >&2
	echo "softsev: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "softsev: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
