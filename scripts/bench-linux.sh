#!/usr/bin/env bash
# `pvkvm bench linux`: block I/O inside one Linux guest under QEMU TCG, on
# three disks of the same guest in the same run: pvblk (served by `pvkvm
# serve` through ivshmem), QEMU's virtio-blk and QEMU's emulated IDE, each
# a raw image on the same host file system, opened O_DIRECT by its backend
# (serve: direct=on; QEMU: cache=none,aio=native).
#
#   scripts/bench-linux.sh [--out DIR] [--rounds N] [--seconds S] [--quick]
#
# The load is tests/linux/blkbench.c (O_DIRECT + libaio, fio-like; fio
# itself would drag Ceph and Gluster libraries into the initramfs): 4 KiB
# random read at QD1 and QD32, 4 KiB random write at QD32, 1 MiB sequential
# read at QD4. The rounds interleave the three disks test by test; the
# table gives medians. Under TCG the figures compare device paths, not
# hardware virtualization (docs/benchmarks.md).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
out=$BUILD/bench rounds=3 secs=3
while [[ $# -gt 0 ]]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--quick) rounds=1; secs=2; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-linux: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
prog=bench-linux
scripts/deps.sh --guest --kmod
kver=''
for img in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
	v=${img#/boot/vmlinuz-}
	[[ -d /usr/src/linux-headers-$v ]] && { kver=$v; break; }
done
[[ -n $kver ]] || { echo "$prog: no kernel with headers in /boot"; exit 1; }
pvkvm=$BUILD/pvkvm
[[ -x $pvkvm ]] || { echo "$prog: $pvkvm not built (make)"; exit 1; }
work=$BUILD/bench/linux-run
rm -rf "$work" && mkdir -p "$work" "$out"
serve_pid=''
trap '[[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null; true' EXIT

make --no-print-directory -s BUILD="$BUILD" KDIR="/usr/src/linux-headers-$kver" linux-modules >"$work/kbuild.log"
cc -O2 -static -Wall -Werror -o "$work/blkbench" tests/linux/blkbench.c -laio
cat >"$work/init" <<INIT
#!/bin/sh
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in \$(cat /lib/modules/$kver/load-order); do insmod "\$m"; done
insmod /lib/pv/pvbus.ko && insmod /lib/pv/pvblk.ko
i=0
while { [ ! -b /dev/pvda ] || [ ! -b /dev/vda ] || [ ! -b /dev/sda ]; } && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
for d in pvda vda sda; do [ -b /dev/\$d ] || echo "BENCH-ERROR no /dev/\$d"; done
for r in \$(seq $rounds); do
	for t in "randread 4096 1" "randread 4096 32" "randwrite 4096 32" "read 1048576 4"; do
		for d in pvda vda sda; do
			/bin/blkbench /dev/\$d \$t $secs 256 || echo "BENCH-ERROR \$d \$t"
		done
	done
done
echo BENCH-DONE
poweroff -f
INIT
scripts/mk-initramfs.sh -o "$work/initrd.gz" -i "$work/init" -k "$kver" \
	-m virtio_blk -m virtio_pci -m ata_piix -m sd_mod \
	-f "$BUILD/linux-modules/pvbus.ko:/lib/pv/pvbus.ko" \
	-f "$BUILD/linux-modules/pvblk.ko:/lib/pv/pvblk.ko" -f "$work/blkbench:/bin/blkbench"
for d in pv virtio ide; do truncate -s 256M "$work/$d.img"; done
sock=$work/pv.sock
"$pvkvm" serve --socket "$sock" --disk "$work/pv.img,direct=on" --stats 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.05; done
start=$SECONDS
timeout 1200 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot -net none \
	-kernel "/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet panic=-1" \
	-chardev socket,path="$sock",id=pv -device ivshmem-doorbell,chardev=pv,vectors=2 \
	-drive file="$work/virtio.img",if=virtio,format=raw,cache=none,aio=native \
	-drive file="$work/ide.img",if=ide,format=raw,cache=none,aio=native \
	</dev/null 2>&1 | tr -d '\r' >"$work/console.log" || true
echo "$prog: the guest ran $((SECONDS - start)) s ($rounds rounds, ${secs} s per test)"
grep -q BENCH-DONE "$work/console.log" || { tail -30 "$work/console.log"; echo "$prog: FAIL: the guest did not finish"; exit 1; }
if grep -q BENCH-ERROR "$work/console.log"; then grep BENCH-ERROR "$work/console.log"; exit 1; fi

# BENCH <dev> <mode> <bs> <qd> <ios> <secs> <iops> <MB/s>: medians per test.
table=$out/linux.txt
# A line can start with the console's escape sequences (busybox resets the
# terminal), so a BENCH record is found anywhere on its line.
awk '{ i = index($0, "BENCH /"); if (i > 1) $0 = substr($0, i) }
$1 == "BENCH" {
	split($2, p, "/"); dev = p[3]; key = $3 " " $4 " QD" $5
	n[key, dev]++; v[key, dev, n[key, dev]] = ($4 >= 1048576) ? $9 : $8
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
}
function median(key, dev,   m, i, j, t, a) {
	m = n[key, dev]
	for (i = 1; i <= m; i++) a[i] = v[key, dev, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	printf "%-26s %10s %10s %10s %12s %12s\n", "test (IOPS; MB/s for 1M)", "pvblk", "virtio-blk", "ide", "pvblk/virtio", "pvblk/ide"
	for (k = 1; k <= nk; k++) {
		key = order[k]; a = median(key, "pvda"); b = median(key, "vda"); c = median(key, "sda")
		printf "%-26s %10.0f %10.0f %10.0f %12.2f %12.2f\n", key, a, b, c, b ? a / b : 0, c ? a / c : 0
		if (!(a > 0 && b > 0 && c > 0)) bad = bad " " key
	}
	# A zero is a record lost or a device that did nothing: never a figure.
	if (bad != "") { printf "bench-linux: FAIL: no figure for%s\n", bad > "/dev/stderr"; exit 1 }
}' "$work/console.log" | tee "$table"
[[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1
# The same medians as rows of pvkvm bench's summary (host/bench/bench_summary.h)
# and as DIR/linux.json.
awk -v tsv="$out/summary.tsv" -v json="$out/linux.json" '{ i = index($0, "BENCH /"); if (i > 1) $0 = substr($0, i) }
$1 == "BENCH" {
	split($2, p, "/"); dev = p[3]; bs = ($4 >= 1048576) ? ($4 / 1048576) "m" : ($4 / 1024) "k"
	key = $3 "-" bs "-qd" $5; unit[key] = ($4 >= 1048576) ? "MB/s" : "IOPS"
	n[key, dev]++; v[key, dev, n[key, dev]] = ($4 >= 1048576) ? $9 : $8
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
}
function median(key, dev,   m, i, j, t, a) {
	m = n[key, dev]
	for (i = 1; i <= m; i++) a[i] = v[key, dev, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	split("pvda vda sda", devs, " "); split("pvblk virtio-blk ide", names, " ")
	printf "{\n  \"benchmark\": \"linux\",\n  \"accel\": \"tcg\",\n  \"cases\": [" > json
	for (k = 1; k <= nk; k++) {
		key = order[k]
		printf "%s\n    {\"name\": \"%s\", \"unit\": \"%s\"", (k > 1 ? "," : ""), key, unit[key] > json
		for (d = 1; d <= 3; d++) {
			m = median(key, devs[d])
			printf ", \"%s\": %.1f", names[d], m > json
			printf "linux\t%s\t%s\t%s\t%.6g\t-1\t-1\t-1\n", key, names[d], unit[key], m >> tsv
		}
		printf "}" > json
	}
	printf "\n  ]\n}\n" > json
}' "$work/console.log"
echo "$prog: table in $table, $out/linux.json; raw lines in $work/console.log"
kill "$serve_pid" && wait "$serve_pid" || true
serve_pid=''
