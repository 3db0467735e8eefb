#!/usr/bin/env bash
# The main job: PV vs full-virt I/O on the built-in default guest, disk and
# network, each beside the host doing the same I/O directly, in one run.
#
#   scripts/bench.sh [--out DIR] [--quick]
#
# Results (table, JSON, plots) go to DIR (default build/bench/). Parts that
# are not built yet are reported as such, never faked.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/build/bench"
quick=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--quick) quick=(--quick); shift ;;
	-h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
"$here/scripts/deps.sh" --bench
mkdir -p "$out"
pvkvm="$here/build/pvkvm"

status=0
if "$pvkvm" bench --list 2>/dev/null | grep -qx blk; then
	"$pvkvm" bench blk --out "$out" "${quick[@]}" || status=$?
else
	echo "bench: block benchmark (pvkvm bench blk) is not built yet"
fi
if "$pvkvm" bench --list 2>/dev/null | grep -qx net; then
	"$pvkvm" bench net --out "$out" "${quick[@]}" || status=$?
else
	echo "bench: network benchmark (pvkvm bench net) is not built yet"
fi
if "$pvkvm" bench --list 2>/dev/null | grep -qx linux; then
	"$pvkvm" bench linux --out "$out" "${quick[@]}" || status=$?
fi
exit $status
