#!/usr/bin/env bash
# Runs libFuzzer targets, one after another, each for a set time, and prints
# one summary line per target plus "N passed, N failed".
#
#   run-fuzz.sh --seconds S [--out DIR] [--smoke] TARGET...
#
# The seeds in tests/fuzz/corpus/<target>/ are read, never written: new
# inputs go to DIR/corpus/<target>/ (kept between runs), crashes to
# DIR/crashes/<target>/. --smoke runs on the seeds alone (nothing kept).
# A crash, a sanitizer report, a leak or a timeout fails the target.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=600 out=build/fuzz smoke=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--smoke) smoke=1; shift ;;
	*) break ;;
	esac
done
pass=0 fail=0
for t in "$@"; do
	bin=$out/$t
	seeds=$here/corpus/$t
	if [[ ! -x $bin ]]; then
		echo "$t: not built ($bin)"
		fail=$((fail + 1))
		continue
	fi
	mkdir -p "$out/crashes/$t"
	if ((smoke)); then
		work=$(mktemp -d)
	else
		work=$out/corpus/$t
		mkdir -p "$work"
	fi
	log=$out/$t.log
	start=$(date +%s)
	"$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/crashes/$t/" \
		"$work" "$seeds" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
	corp=$(ls "$work" | wc -l)
	((smoke)) && rm -rf "$work"
	if [[ $rc -eq 0 ]]; then
		echo "$t: ok, ${took}s, ${execs} executions, cov ${cov} edges, ft ${ft}, corpus ${corp}"
		pass=$((pass + 1))
	else
		echo "$t: FAILED (exit $rc after ${took}s), see $log; last lines:"
		tail -n 30 "$log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
