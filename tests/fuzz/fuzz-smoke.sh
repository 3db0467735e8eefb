#!/usr/bin/env bash
# make check's share of fuzzing: every target for a few seconds on its seeds.
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build}
targets=()
for f in "$here"/fuzz_*.c; do
	targets+=("$(basename "$f" .c)")
done
# The detector first: a fuzzer that cannot see a double fetch proves nothing.
if ! "$build/fuzz/dfetch_selftest"; then
	echo "0 passed, 1 failed"
	exit 1
fi
exec nice "$here/run-fuzz.sh" --smoke --seconds "${FUZZ_SMOKE_SECONDS:-3}" \
	--out "$build/fuzz" "${targets[@]}"
