#!/usr/bin/env bash
# The Linux guest drivers are kernel style: guest-drivers/linux/ must pass
# the checkpatch.pl of Debian's linux-source (--strict) with no error,
# warning or check. Skips (77) when linux-source is not installed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
"$top/scripts/deps.sh" --checkpatch || echo "checkpatch: deps.sh --checkpatch failed; looking for linux-source anyway"
tarball=$(ls -1 /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $tarball ]] || { echo "checkpatch: SKIP: no /usr/src/linux-source-*.tar.xz (Debian: linux-source)"; exit 77; }
dir=$BUILD/checkpatch
base=$(basename "$tarball" .tar.xz)
if [[ ! -x $dir/$base/scripts/checkpatch.pl ]]; then
	rm -rf "$dir" && mkdir -p "$dir"
	tar -xJf "$tarball" -C "$dir" "$base/scripts/checkpatch.pl" "$base/scripts/spelling.txt" \
		"$base/scripts/const_structs.checkpatch"
fi
out=$(perl "$dir/$base/scripts/checkpatch.pl" --no-tree --strict --terse \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f guest-drivers/linux/*.[ch] 2>&1 || true)
if grep -qE ': (ERROR|WARNING|CHECK):' <<<"$out"; then
	grep -E ': (ERROR|WARNING|CHECK):' <<<"$out"
	echo "checkpatch: guest-drivers/linux is not checkpatch-clean ($base)"
	exit 1
fi
echo "checkpatch: guest-drivers/linux/*.[ch] clean under $base's checkpatch.pl --strict"
