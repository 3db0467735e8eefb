#!/usr/bin/env bash
# Installs the Debian packages pvkvm needs, and only those that are missing.
#
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh --guest    also what Linux-guest and nested-KVM tests need
#   scripts/deps.sh --bench    also what the benchmark plots need
#   scripts/deps.sh --kmod     also the headers Linux guest modules build against
#   scripts/deps.sh --checkpatch  also linux-source (its checkpatch.pl)
#
# Quiet on success. Called by `make`, `make check` and `make bench`, so a fresh
# Debian 12 machine needs nothing else.
set -euo pipefail

build_pkgs=(gcc make pkg-config liburcu-dev libaio-dev libcriterion-dev iproute2 iputils-ping clang libclang-rt-14-dev)
guest_pkgs=(qemu-system-x86 linux-image-amd64 busybox-static cpio kmod e2fsprogs)
bench_pkgs=(gnuplot-nox)
kmod_pkgs=(linux-headers-amd64 linux-image-amd64)
checkpatch_pkgs=(linux-source)

want=("${build_pkgs[@]}")
for arg in "$@"; do
	case "$arg" in
	--guest) want+=("${guest_pkgs[@]}") ;;
	--bench) want+=("${bench_pkgs[@]}") ;;
	--kmod) want+=("${kmod_pkgs[@]}") ;;
	--checkpatch) want+=("${checkpatch_pkgs[@]}") ;;
	--all) want+=("${guest_pkgs[@]}" "${bench_pkgs[@]}" "${kmod_pkgs[@]}" "${checkpatch_pkgs[@]}") ;;
	-h | --help)
		sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "deps.sh: unknown option '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null; then
		SUDO=sudo
	else
		echo "deps.sh: missing packages (${missing[*]}) and not root; install them and retry" >&2
		exit 1
	fi
else
	SUDO=
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A stale or empty package list makes apt miss packages: refresh once if it is old.
lists=/var/lib/apt/lists
if [[ -z $(find "$lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1) ]]; then
	$SUDO apt-get update -qq >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
