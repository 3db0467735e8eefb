#!/usr/bin/env bash
# The ring headers must compile in a Linux module as they do in userspace and
# in the freestanding guest: build ring/kmod-check against Debian's headers.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/scripts/deps.sh" --kmod
# Kbuild writes next to the sources; build a copy so the tree stays clean
# (build/kmod-check/../.. is the repository root its Kbuild includes from).
work="$top/build/kmod-check"
rm -rf "$work" && mkdir -p "$work"
cp "$top"/ring/kmod-check/* "$work"/
make -s -C "$work" >"$work/build.log" 2>&1 || {
	cat "$work/build.log"
	echo "ring headers failed to build as a Linux module"
	exit 1
}
ls "$work"/*.ko >/dev/null
echo "ring headers build in a Linux module ($(basename "$work"/*.ko))"
