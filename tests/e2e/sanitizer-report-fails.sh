#!/usr/bin/env bash
# scripts/run-tests.sh must fail a program whose output has a sanitizer
# report even when the program says it passed (Criterion counts a test as
# passed before LeakSanitizer runs): built here, a program with a deliberate
# leak and one with a deliberate UBSan error, each printing a passing
# Criterion-like synthesis line, and a clean one that must pass.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc=${CC:-cc}
pass=0 fail=0

build() { # name, body
	printf '#include <stdio.h>\n#include <stdlib.h>\n#include <sys/wait.h>\n#include <unistd.h>\n%s\n' "$2" >"$work/$1.c"
	"$cc" -g -O0 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-o "$work/$1" "$work/$1.c" || { echo "sanitizer-report-fails: cannot build $1"; exit 77; }
}

# expect NAME WANT(0 pass, 1 fail)
expect() {
	local out rc
	out=$("$top/scripts/run-tests.sh" --group selfcheck "$work/$1" 2>&1)
	rc=$?
	if { [[ $2 -eq 0 ]] && [[ $rc -eq 0 ]]; } || { [[ $2 -eq 1 ]] && [[ $rc -ne 0 ]] && grep -q "sanitizer report" <<<"$out"; }; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1 (run-tests.sh exit $rc):"
		sed 's/^/    /' <<<"$out"
		fail=$((fail + 1))
	fi
}

# As under Criterion: the test runs in a forked worker whose sanitizer exit
# status the runner never looks at; the runner itself says all passed, exit 0.
synth='printf("[====] Synthesis: Tested: 1 | Passing: 1 | Failing: 0 | Crashing: 0\n");'
worker() { echo "int main(int c, char **v) { (void)v; pid_t p = fork(); if (p == 0) { $1 _exit(c > 5); } if (p == 0) return 1; waitpid(p, 0, 0); $synth return 0; }"; }
build leak "$(worker 'void *volatile q = malloc(4096); q = 0; exit(0);')"
build ubsan "$(worker 'volatile int x = 0x7fffffff; x += c; exit(x == 0);')"
build clean "$(worker 'void *q = malloc(16); free(q); exit(0);')"
expect leak 1
expect ubsan 1
expect clean 0
echo "sanitizer-report-fails: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
