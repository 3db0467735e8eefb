#!/usr/bin/env bash
# build/ring-bench side by side with Linux's own ring benchmark,
# tools/virtio/ringtest, on this machine, in one run.
#
#   scripts/ringtest-compare.sh [--reps N] [--count N] [--sizes "32 256 1024"]
#                               [--poll-count N] [--no-poll] [--timeout S]
#                               [--pv-sleep-args "ARGS"]
#
# Installs Debian's linux-source-6.1 if missing, extracts only
# tools/virtio/ringtest into build/ringtest/ (Linux source never enters the
# repo), builds its `ring` and `virtio_ring_0_9` tests with its own Makefile,
# builds build/ring-bench, then runs all three on the same workload:
# pipelined request/response round trips between two threads, the same
# number of messages, the same ring size, batch 1 (publish after every
# message), event-index suppression on both sides; first with both threads
# sleeping on eventfds (ringtest --sleep), then with both polling.
# Repetitions are interleaved (A B C, C A B, ...); each cell is the median,
# timed the same way for all (wall clock of the whole process).
# Raw runs: build/ringtest/results.csv. Read docs/ring.md first.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
reps=7
count=10000000       # ringtest's own default --run-cycles
poll_count=1000000   # polling on 2 busy CPUs can be very slow: keep it short
sizes="32 256 1024"
poll=1
timeout_s=120
pv_sleep_args=""     # e.g. "--rsp-wake half": extra ring-bench flags when sleeping
while [[ $# -gt 0 ]]; do
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	--poll-count) poll_count=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--no-poll) poll=0; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--pv-sleep-args) pv_sleep_args=$2; shift 2 ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "ringtest-compare.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done

out="$here/build/ringtest"
src_tar=/usr/src/linux-source-6.1.tar.xz
rt_dir="$out/linux-source-6.1/tools/virtio/ringtest"
bench="$here/build/ring-bench"
csv="$out/results.csv"

# Debian packages: the kernel source, GNU time (context switches),
# linux-libc-dev (<linux/virtio_ring.h>, which virtio_ring_0_9 includes).
install_deps() {
	local missing=()
	[[ -f $src_tar ]] || missing+=(linux-source-6.1)
	[[ -x /usr/bin/time ]] || missing+=(time)
	[[ -f /usr/include/linux/virtio_ring.h ]] || missing+=(linux-libc-dev)
	[[ ${#missing[@]} -eq 0 ]] && return
	echo "ringtest-compare: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Only tools/virtio/ringtest is extracted; its Makefile is used unchanged.
# ptr_ring needs more of the kernel tree, so only the tests used are built.
build_ringtest() {
	mkdir -p "$out"
	if [[ ! -f $rt_dir/Makefile ]]; then
		echo "ringtest-compare: extracting tools/virtio/ringtest from $src_tar"
		tar -xJf "$src_tar" -C "$out" --wildcards 'linux-source-6.1/tools/virtio/ringtest/*'
	fi
	make -s -C "$rt_dir" ring virtio_ring_0_9 >/dev/null
}

# run NAME CONFIG SLOTS COUNT REP -- CMD...: one timed run, one CSV line:
# name,config,slots,count,rep,seconds,voluntary_ctx_switches,notif_per_msg,cpu_seconds
# (seconds empty on failure or timeout; notif only known for ring-bench;
# cpu_seconds: user + system time of the whole process).
run() {
	local name=$1 cfg=$2 slots=$3 n=$4 rep=$5 t0 t1 vcs cpu notif="" rc=0
	shift 6
	t0=$(date +%s%N)
	timeout "$timeout_s" /usr/bin/time -f '%w %U %S' -o "$out/time.out" "$@" >"$out/run.out" 2>&1 || rc=$?
	t1=$(date +%s%N)
	read -r vcs cpu < <(tail -n 1 "$out/time.out" 2>/dev/null | awk '{ printf "%s %.2f\n", $1, $2 + $3 }') || true
	if [[ $name == pvkvm ]] && [[ $rc -eq 0 ]]; then
		notif=$(grep -o '"req_notifies": [0-9]*, "rsp_notifies": [0-9]*' "$out/run.out" |
			awk -v n="$n" '{ gsub(",", ""); printf "%.4f", ($2 + $4) / n }')
	fi
	if [[ $rc -ne 0 ]]; then
		echo "ringtest-compare: $name $cfg $slots slots rep $rep: exit $rc (124 = over ${timeout_s}s)" >&2
		echo "$name,$cfg,$slots,$n,$rep,,$vcs,$notif,$cpu" >>"$csv"
		return
	fi
	echo "$name,$cfg,$slots,$n,$rep,$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }'),$vcs,$notif,$cpu" >>"$csv"
}

# One configuration, all three programs, in an order rotated by rep so no
# program always runs first (right after the previous configuration).
run_config() {
	local cfg=$1 slots=$2 n=$3 rep=$4 rt_flags=() rb_flags=() order i
	# ringtest without --sleep never kicks nor checks an event index (no
	# barrier at all); pvkvm's PVKVM_RING_PEER_POLLS mode is the same
	# contract: publish with release, never read the peer's event index.
	if [[ $cfg == sleep ]]; then
		rt_flags=(--sleep); rb_flags=(--mode suppress)
		# shellcheck disable=SC2206 # word splitting wanted
		[[ -n $pv_sleep_args ]] && rb_flags+=($pv_sleep_args)
	else
		rb_flags=(--poll --mode peer-polls)
	fi
	order=(pvkvm ring virtio_ring_0_9)
	for ((i = 0; i < 3; i++)); do
		case ${order[(i + rep) % 3]} in
		pvkvm) run pvkvm "$cfg" "$slots" "$n" "$rep" -- "$bench" --json --repeat 1 \
			--batch 1 --min-slots "$slots" --max-slots "$slots" \
			--count "$n" "${rb_flags[@]}" ;;
		*) run "${order[(i + rep) % 3]}" "$cfg" "$slots" "$n" "$rep" -- \
			"$rt_dir/${order[(i + rep) % 3]}" --ring-size "$slots" --run-cycles "$n" \
			--batch 1 "${rt_flags[@]}" ;;
		esac
	done
}

# Median Mmsg/s (with min-max) per program and configuration, and the ratio.
report() {
	awk -F, '
	function median(list,   a, k, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		if (n == 0) return ""
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function cell(key,   m, s) {
		if (!(key in rate)) return sprintf("%-20s", "failed")
		m = median(rate[key]); s = sprintf("%.2f (%.2f-%.2f)", m, lo[key], hi[key])
		if (fails[key]) s = s "!" fails[key]
		return sprintf("%-20s", s)
	}
	function med(key) { return (key in rate) ? median(rate[key]) : 0 }
	function cpucell(key) { return (key in cpu) ? sprintf("%.0f", median(cpu[key])) : "-" }
	NR > 1 {
		key = $2 "," $3 "," $1
		if (!($2 "," $3 in seen)) { seen[$2 "," $3] = 1; cfgs[++ncfg] = $2 "," $3 }
		if ($6 == "") { fails[key]++; next }
		r = $4 / $6 / 1e6
		rate[key] = rate[key] " " r
		if (!(key in lo) || r < lo[key]) lo[key] = r
		if (!(key in hi) || r > hi[key]) hi[key] = r
		vcs[key] += $7 / $4; nv[key]++
		cpu[key] = cpu[key] " " $9 * 1e9 / $4
		if ($8 != "") { notif[key] += $8; nn[key]++ }
	}
	END {
		printf "%-6s %5s  %-20s %-20s %-20s %9s %9s %8s  %9s  %-23s  %s\n", "mode", "slots",
		       "pvkvm Mmsg/s", "ring Mmsg/s", "virtio_0_9 Mmsg/s", "pv/ring", "pv/virtio",
		       "pv/best", "pv notif", "sleeps/msg pv ring v09", "cpu ns/msg pv ring v09"
		for (c = 1; c <= ncfg; c++) {
			split(cfgs[c], p, ",")
			pv = cfgs[c] ",pvkvm"; rg = cfgs[c] ",ring"; vq = cfgs[c] ",virtio_ring_0_9"
			best = med(rg) > med(vq) ? med(rg) : med(vq)
			printf "%-6s %5s  %s %s %s %9s %9s %8s  %9s  %.4f %.4f %.4f  %s %s %s\n", p[1], p[2],
			       cell(pv), cell(rg), cell(vq),
			       med(rg) ? sprintf("%.2f", med(pv) / med(rg)) : "-",
			       med(vq) ? sprintf("%.2f", med(pv) / med(vq)) : "-",
			       best ? sprintf("%.2f", med(pv) / best) : "-",
			       nn[pv] ? sprintf("%.4f", notif[pv] / nn[pv]) : "-",
			       nv[pv] ? vcs[pv] / nv[pv] : 0, nv[rg] ? vcs[rg] / nv[rg] : 0,
			       nv[vq] ? vcs[vq] / nv[vq] : 0,
			       cpucell(pv), cpucell(rg), cpucell(vq)
		}
	}' "$csv"
}

install_deps
build_ringtest
make -s -C "$here" build/ring-bench
echo "name,config,slots,count,rep,seconds,voluntary_ctx_switches,notif_per_msg,cpu_seconds" >"$csv"
echo "ringtest-compare: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg); $reps reps, sleep: $count msgs," \
	"poll: $poll_count msgs, sizes: $sizes${pv_sleep_args:+, ring-bench sleeping with $pv_sleep_args}"
for ((rep = 1; rep <= reps; rep++)); do
	for s in $sizes; do
		run_config sleep "$s" "$count" "$rep"
	done
	if [[ $poll -eq 1 ]]; then
		run_config poll 256 "$poll_count" "$rep"
	fi
	echo "ringtest-compare: rep $rep/$reps done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
echo
echo "Median of $reps interleaved runs, million round trips per second (min-max);"
echo "pv/ring, pv/virtio: ratio of medians (> 1: pvkvm ahead); pv/best: over the faster of the two;"
echo "'!N': N runs failed or timed out."
echo "pv notif: pvkvm's eventfd writes per round trip; sleeps/msg: voluntary context switches"
echo "per round trip of each whole process (GNU time), i.e. blocking eventfd reads;"
echo "cpu ns/msg: median user + system CPU time per round trip (GNU time, 10 ms resolution)."
report
