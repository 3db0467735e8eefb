#!/usr/bin/env bash
# Runs test programs in groups and ends with one line: "N passed, N failed".
#
#   run-tests.sh [--summary-file F] --group NAME [--env VAR=VALUE]... PROG...
#                [--group NAME ...]
#
# --env sets VAR for the rest of its group's programs (a new --group starts
# with none): how the end-to-end suite runs a second time with
# PVKVM_HIDE_CPUID=1.
#
# A sanitizer report anywhere in a program's output (ASan, LSan, TSan,
# UBSan) fails that program, whatever its exit status or its own count
# says: Criterion reports a test passed before LeakSanitizer runs at the
# worker's exit, so the report alone tells.
#
# A Criterion binary counts as its own tests (read from its "Synthesis" line);
# any other program counts as the line "N passed, N failed[, N skipped]" it
# prints last, or else as one test that passes when it exits 0, is skipped
# when it exits 77 (the automake convention), and fails otherwise.
# TEST_TIMEOUT (seconds, default 900) bounds each program.
set -uo pipefail

timeout_s=${TEST_TIMEOUT:-900}
summary_file=
group=tests
total_pass=0 total_fail=0 total_skip=0
failed_progs=()
group_env=()
sanitizer_re='(ERROR|WARNING): (Address|Leak|Thread|Memory)Sanitizer|SUMMARY: [A-Za-z]+Sanitizer|runtime error: '

# Sanitizers report; the report (above) is what fails the program.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

strip_ansi() { sed -e 's/\x1b\[[0-9;]*m//g'; }

run_one() {
	local prog=$1 log rc pass fail skip line
	log=$(mktemp)
	printf '==> [%s] %s\n' "$group" "$prog"
	if [[ ! -x $prog ]]; then
		echo "    missing: $prog was not built"
		total_fail=$((total_fail + 1))
		failed_progs+=("$prog")
		return
	fi
	env ${group_env[@]+"${group_env[@]}"} timeout --kill-after=10 "$timeout_s" "$prog" 2>&1 |
		strip_ansi | tee "$log" | sed 's/^/    /'
	rc=${PIPESTATUS[0]}
	line=$(grep -E 'Synthesis: Tested: [0-9]+' "$log" | tail -n1)
	if [[ -n $line ]]; then
		pass=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
		fail=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
		local crash
		crash=$(sed -E 's/.*Crashing: ([0-9]+).*/\1/' <<<"$line")
		fail=$((fail + crash))
		skip=$(grep -cE '\[SKIP\]' "$log")
		[[ $rc -ne 0 && $fail -eq 0 ]] && fail=1
	elif line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1) && [[ -n $line ]]; then
		pass=$(sed -E 's/.*[^0-9]?([0-9]+) passed.*/\1/' <<<"$line")
		pass=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
		fail=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
		skip=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)
		[[ $rc -ne 0 && $fail -eq 0 ]] && fail=1
	else
		pass=0 fail=0 skip=0
		case $rc in
		0) pass=1 ;;
		77) skip=1 ;;
		*) fail=1 ;;
		esac
	fi
	[[ $rc -eq 124 || $rc -eq 137 ]] && echo "    TIMEOUT after ${timeout_s}s"
	local reports
	reports=$(grep -cE "$sanitizer_re" "$log")
	if ((reports > 0)); then
		echo "    FAIL: $reports sanitizer report line(s) in the output of $prog"
		((fail == 0)) && fail=1
		((pass > 0)) && pass=$((pass - 1))
	fi
	((fail > 0)) && failed_progs+=("$prog")
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + ${skip:-0}))
	rm -f "$log"
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--summary-file) summary_file=$2; shift 2 ;;
	--group) group=$2; group_env=(); shift 2 ;;
	--env) group_env+=("$2"); shift 2 ;;
	*) run_one "$1"; shift ;;
	esac
done

if ((${#failed_progs[@]} > 0)); then
	echo "failed programs:"
	printf '  %s\n' "${failed_progs[@]}"
fi
result="$total_pass passed, $total_fail failed, $total_skip skipped"
[[ -n $summary_file ]] && echo "$result" >"$summary_file"
echo "$result"
[[ $total_fail -eq 0 ]]
