#!/usr/bin/env bash
# The main job: PV vs full-virt I/O on the built-in default guest, disk and
# network, each beside the host doing the same I/O directly, in one run.
#
#   scripts/bench.sh [--out DIR] [--quick]
#
# Results (one summary table, results.json, report.md, each benchmark's
# JSON and plots) go to DIR (default build/bench/).
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
# The matrix includes the Linux guest (QEMU, Debian's kernel, the modules).
"$here/scripts/deps.sh" --bench --guest --kmod
mkdir -p "$out"
# pvkvm bench with no benchmark named runs the whole matrix (hypercalls,
# block, network, the Linux guest, rings), prints one summary table and
# writes results.json and report.md; see pvkvm bench --help.
exec "$here/build/pvkvm" bench --out "$out" "${quick[@]}"
