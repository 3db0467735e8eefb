#!/usr/bin/env bash
# `pvkvm bench linux`: block I/O and UDP inside one Linux guest under QEMU
# TCG, on three disks and three NICs of the same guest in the same run.
#
#   scripts/bench-linux.sh [--out DIR] [--rounds N] [--seconds S]
#                          [--net-seconds S] [--only blk|net] [--quick]
#
# Block: pvblk (served by `pvkvm serve` through ivshmem), QEMU's virtio-blk
# and QEMU's emulated IDE, each a raw image on the same host file system,
# opened O_DIRECT by its backend (serve: direct=on; QEMU:
# cache=none,aio=native). The load is tests/linux/blkbench.c (O_DIRECT +
# libaio, fio-like; fio itself would drag Ceph and Gluster libraries into
# the initramfs): 4 KiB random read at QD1 and QD32, 4 KiB random write at
# QD32, 1 MiB sequential read at QD4.
#
# Network: pvnet (served by the same `pvkvm serve`, --net tap=...), QEMU's
# virtio-net and QEMU's e1000 (both -netdev tap, no vhost), each on its own
# TAP in one network namespace the script creates, so the three paths end
# in the same host stack. The load is tests/linux/netbench.c: UDP
# datagrams of 64 and 1400 bytes blasted with sendmmsg for S seconds, guest
# to host (the host's netbench agent counts) and host to guest (the agent
# blasts, the guest counts with recvmmsg): packets/s at 64 bytes, Mbit/s of
# payload at 1400 bytes.
#
# The rounds interleave the devices test by test; the tables give medians
# and the spread (max - min) / median of the rounds. Under TCG the figures
# compare device paths, not hardware virtualization (docs/benchmarks.md).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
out=$BUILD/bench rounds=3 secs=3 nsecs=3 only=''
while [[ $# -gt 0 ]]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--net-seconds) nsecs=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--quick) rounds=1; secs=2; nsecs=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-linux: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
case $only in '' | blk | net) ;; *) echo "bench-linux: --only blk or net" >&2; exit 2 ;; esac
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
command -v ip >/dev/null || { echo "$prog: iproute2 not installed"; exit 1; }
work=$BUILD/bench/linux-run
rm -rf "$work" && mkdir -p "$work" "$out"

# Everything runs in a namespace of our own: the three TAPs, the daemon, the
# agent and QEMU (which opens its TAPs by name there). Removed on any exit.
ns=pvkvm-bl-$$ serve_pid='' qemu_pid='' agent_pid=''
cleanup() {
	local p
	for p in $qemu_pid $agent_pid $serve_pid; do kill -9 "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo "$prog: interrupted"; exit 130' INT TERM

make --no-print-directory -s BUILD="$BUILD" KDIR="/usr/src/linux-headers-$kver" linux-modules >"$work/kbuild.log"
cc -O2 -static -Wall -Werror -o "$work/blkbench" tests/linux/blkbench.c -laio
cc -O2 -static -Wall -Werror -o "$work/netbench" tests/linux/netbench.c
do_blk=1 do_net=1
[[ $only == net ]] && do_blk=0
[[ $only == blk ]] && do_net=0
cat >"$work/init" <<INIT
#!/bin/sh
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo # SeaBIOS leaves "Booting from ROM.." without a newline
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in \$(cat /lib/modules/$kver/load-order); do insmod "\$m"; done
insmod /lib/pv/pvbus.ko && insmod /lib/pv/pvblk.ko && insmod /lib/pv/pvnet.ko
i=0
while { [ ! -b /dev/pvda ] || [ ! -b /dev/vda ] || [ ! -b /dev/sda ]; } && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
for d in pvda vda sda; do [ -b /dev/\$d ] || echo "BENCH-ERROR no /dev/\$d"; done
if [ $do_blk = 1 ]; then
for r in \$(seq $rounds); do
	for t in "randread 4096 1" "randread 4096 32" "randwrite 4096 32" "read 1048576 4"; do
		for d in pvda vda sda; do
			/bin/blkbench /dev/\$d \$t $secs 256 || echo "BENCH-ERROR \$d \$t"
		done
	done
done
fi

# The NICs by driver: pvnet on 10.78.1.0/24, virtio-net on .2, e1000 on .3.
nic_if() {
	for n in /sys/class/net/*; do
		[ "\$(basename "\$(readlink \$n/device/driver)" 2>/dev/null)" = "\$1" ] && basename \$n
	done
}
# The interrupts of a NIC: its PCI function's MSI-X vectors (virtio and
# pvbus NICs hang below one), else its INTx line.
nic_irqs() {
	d=/sys/class/net/\$1/device
	for m in \$d/msi_irqs \$d/../msi_irqs; do
		[ -d \$m ] && { ls \$m; return; }
	done
	cat \$d/irq
}
irq_count() {
	s=0
	for q in \$irqs; do
		c=\$(sed -n "s/^ *\$q: *\([0-9]*\).*/\1/p" /proc/interrupts)
		s=\$((s + \${c:-0}))
	done
	echo \$s
}
if [ $do_net = 1 ]; then
	for drv in pvnet virtio_net e1000; do
		i=0
		while [ -z "\$(nic_if \$drv)" ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
	done
	for nic in 1:pvnet:pvnet 2:virtio-net:virtio_net 3:e1000:e1000; do
		sub=\${nic%%:*} name=\${nic#*:} drv=\${nic##*:}
		name=\${name%:*}
		dev=\$(nic_if \$drv)
		[ -n "\$dev" ] || { echo "BENCH-ERROR no \$drv NIC"; continue; }
		ip link set \$dev up && ip addr add 10.78.\$sub.2/24 dev \$dev
		eval "if_\$sub=\$dev"
		i=0
		while [ "\$(cat /sys/class/net/\$dev/carrier 2>/dev/null)" != 1 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
		ping -c 1 -W 10 10.78.\$sub.1 >/dev/null || echo "BENCH-ERROR \$name (\$dev): no ping reply from 10.78.\$sub.1"
	done
	# A short burst each way first: ARP, page cache and slab warm for all.
	burst=1
	for nic in 1:pvnet 2:virtio-net 3:e1000; do
		for t in push pull; do
			/bin/netbench \$t 10.78.\${nic%%:*}.1 7000 1400 0.3 \$burst \${nic#*:}/warm/1400 >/dev/null
			burst=\$((burst + 1))
		done
	done
	for r in \$(seq $rounds); do
		# Each round starts with another NIC: none is always first.
		case \$((r % 3)) in
		1) nics="1:pvnet 2:virtio-net 3:e1000" ;;
		2) nics="2:virtio-net 3:e1000 1:pvnet" ;;
		*) nics="3:e1000 1:pvnet 2:virtio-net" ;;
		esac
		for t in "push 64" "push 1400" "pull 64" "pull 1400"; do
			for nic in \$nics; do
				sub=\${nic%%:*} name=\${nic#*:}
				eval "dev=\\\$if_\$sub"
				dir=g2h
				[ "\${t% *}" = pull ] && dir=h2g
				if [ -n "\$dev" ]; then
					irqs=\$(nic_irqs \$dev)
					i0=\$(irq_count)
					/bin/netbench \${t% *} 10.78.\$sub.1 7000 \${t#* } $nsecs \$burst \$name/\$dir/\${t#* } ||
						echo "BENCH-ERROR \$name \$t"
					echo "NETIRQ \$name/\$dir/\${t#* } \$((\$(irq_count) - i0))"
				fi
				burst=\$((burst + 1))
			done
		done
	done
	for nic in 1:pvnet 2:virtio-net 3:e1000; do
		eval "dev=\\\$if_\${nic%%:*}"
		nic=\${nic#*:}
		[ -n "\$dev" ] || continue
		st=/sys/class/net/\$dev/statistics
		echo "NETSTAT \$nic \$dev rx_packets \$(cat \$st/rx_packets) rx_dropped \$(cat \$st/rx_dropped) tx_packets \$(cat \$st/tx_packets) tx_dropped \$(cat \$st/tx_dropped)"
	done
fi
echo BENCH-DONE
poweroff -f
INIT
scripts/mk-initramfs.sh -o "$work/initrd.gz" -i "$work/init" -k "$kver" \
	-m virtio_blk -m virtio_pci -m ata_piix -m sd_mod -m virtio_net -m e1000 \
	-f "$BUILD/linux-modules/pvbus.ko:/lib/pv/pvbus.ko" \
	-f "$BUILD/linux-modules/pvblk.ko:/lib/pv/pvblk.ko" \
	-f "$BUILD/linux-modules/pvnet.ko:/lib/pv/pvnet.ko" \
	-f "$work/blkbench:/bin/blkbench" -f "$work/netbench:/bin/netbench"
for d in pv virtio ide; do truncate -s 256M "$work/$d.img"; done

ip netns add "$ns"
nsx() { ip netns exec "$ns" "$@"; } # not for what runs in the background: $! must be its pid
nsx ip link set lo up
for i in 1 2 3; do
	nsx ip tuntap add dev bltap$i mode tap vnet_hdr
	nsx ip addr add 10.78.$i.1/24 dev bltap$i
	nsx ip link set bltap$i up
done
# The agent gets what CPU the devices leave (2 cores: QEMU's vCPU and its
# I/O thread, the daemon's backends): it offers load, it must not steal it.
ip netns exec "$ns" nice -n 19 "$work/netbench" agent 7000 >"$work/agent.log" 2>&1 &
agent_pid=$!
disown "$agent_pid" # killed at the end: no "Killed" line from bash
sock=$work/pv.sock
ip netns exec "$ns" "$pvkvm" serve --socket "$sock" --disk "$work/pv.img,direct=on" --net tap=bltap1 --stats 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.05; done
start=$SECONDS
# maxcpus=2 with one vCPU: QEMU 7.2 TCG emits the guest's barriers only when
# more than one vCPU may exist, and the rings shared with the daemon need
# them (docs/linux-guests.md).
ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 512 -smp 1,maxcpus=2 -nographic -no-reboot -net none \
	-kernel "/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet panic=-1" \
	-chardev socket,path="$sock",id=pv -device ivshmem-doorbell,chardev=pv,vectors=3 \
	-drive file="$work/virtio.img",if=virtio,format=raw,cache=none,aio=native \
	-drive file="$work/ide.img",if=ide,format=raw,cache=none,aio=native \
	-netdev tap,id=vn,ifname=bltap2,script=no,downscript=no \
	-device virtio-net-pci,netdev=vn,mac=52:54:00:b1:00:02 \
	-netdev tap,id=e1,ifname=bltap3,script=no,downscript=no \
	-device e1000,netdev=e1,mac=52:54:00:b1:00:03 \
	</dev/null >"$work/console.raw" 2>&1 &
qemu_pid=$!
while kill -0 "$qemu_pid" 2>/dev/null; do
	if ((SECONDS - start > 1800)); then echo "$prog: the guest ran 1800 s: killed"; kill -9 "$qemu_pid"; fi
	sleep 1
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=''
# Terminal escapes (CSI sequences, ESC c) and CRs out.
sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[@-Z\\-_a-z]//g' -e 's/\r//g' "$work/console.raw" >"$work/console.log"
echo "$prog: the guest ran $((SECONDS - start)) s ($rounds rounds, ${secs} s per disk test, ${nsecs} s per NIC test)"
kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
serve_pid=''
grep -q BENCH-DONE "$work/console.log" || { tail -30 "$work/console.log"; echo "$prog: FAIL: the guest did not finish"; exit 1; }
if grep -q 'BENCH-ERROR\|^NET .* FAIL' "$work/console.log"; then grep 'BENCH-ERROR\|^NET .* FAIL' "$work/console.log"; exit 1; fi

# One line per round and case: CASE MODE METRIC VALUE [IRQS-PER-PACKET].
# BENCH <dev> <mode> <bs> <qd> <ios> <secs> <iops> <MB/s> (blkbench);
# NET <nic>/<dir>/<size> ... pps=P mbps=M and NETIRQ <nic>/<dir>/<size> N.
awk '$1 == "BENCH" {
	split($2, p, "/"); dev = p[3]; bs = ($4 >= 1048576) ? ($4 / 1048576) "m" : ($4 / 1024) "k"
	mode = (dev == "pvda") ? "pvblk" : (dev == "vda") ? "virtio-blk" : "ide"
	print $3 "-" bs "-qd" $5, mode, ($4 >= 1048576) ? "MB/s" : "IOPS", ($4 >= 1048576) ? $9 : $8
}
$1 == "NET" && $2 ~ /\/(g2h|h2g)\// {
	split($2, t, "/"); for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	key = t[1] "/" t[2] "/" t[3]; rcvd[key] = f["rcvd"]
	line[key] = "udp-" t[3] "-" t[2] " " t[1] " " (t[3] <= 64 ? "pps " f["pps"] : "Mbit/s " f["mbps"])
}
$1 == "NETIRQ" && ($2 in line) {
	print line[$2], (rcvd[$2] > 0 ? $3 / rcvd[$2] : -1); delete line[$2]
}' "$work/console.log" >"$work/rounds.txt"

# Medians and spreads: DIR/linux.txt (two tables), DIR/linux.json and the
# rows of pvkvm bench's summary (host/bench/bench_summary.h).
awk -v tsv="$out/summary.tsv" -v json="$out/linux.json" '
{
	k = $1; m = $2; unit[k] = $3; n[k, m]++; v[k, m, n[k, m]] = $4
	if (NF >= 5) { ni[k, m]++; irq[k, m, ni[k, m]] = $5 }
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
}
function sorted(arr, key, mode, cnt,   i, j, t) {
	for (i = 1; i <= cnt; i++) s[i] = arr[key, mode, i]
	for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
}
function median(arr, key, mode, cnt) {
	if (cnt == 0) return -1
	sorted(arr, key, mode, cnt)
	return (cnt % 2) ? s[(cnt + 1) / 2] : (s[cnt / 2] + s[cnt / 2 + 1]) / 2
}
function spread(arr, key, mode, cnt,   med) {
	if (cnt < 2) return -1
	med = median(arr, key, mode, cnt)
	return med > 0 ? (s[cnt] - s[1]) / med : -1
}
# The median over rounds of a/b within each round: the two ran minutes
# apart at most, so a machine whose load moves (2 shared cores) moves both.
function ratio(key, a, b,   c, i, r) {
	c = n[key, a] < n[key, b] ? n[key, a] : n[key, b]
	for (i = 1; i <= c; i++) r[key, "ratio", i] = v[key, b, i] > 0 ? v[key, a, i] / v[key, b, i] : 0
	return c ? median(r, key, "ratio", c) : 0
}
function pct(x) { return x < 0 ? "-" : sprintf("%.0f%%", x * 100) }
function table(title, modes, nm, pv, ref,   k, key, d, a, b, hdr) {
	split(modes, md, " ")
	hdr = 0
	for (k = 1; k <= nk; k++) {
		key = order[k]
		if (!((key, md[1]) in n) && !((key, md[2]) in n)) continue
		if (!hdr) {
			printf "%-20s %-7s", title, "unit"
			for (d = 1; d <= nm; d++) printf " %12s %6s", md[d], "spread"
			printf " %10s %10s\n", "/" md[2], "/" md[3]
			hdr = 1
		}
		printf "%-20s %-7s", key, unit[key]
		for (d = 1; d <= nm; d++) {
			med[d] = median(v, key, md[d], n[key, md[d]])
			printf " %12.1f %6s", med[d], pct(spread(v, key, md[d], n[key, md[d]]))
		}
		printf " %10.2f %10.2f\n", ratio(key, md[1], md[2]), ratio(key, md[1], md[3])
	}
	if (hdr && title ~ /udp/) {
		printf "interrupts per datagram received (median):\n"
		for (k = 1; k <= nk; k++) {
			key = order[k]
			if (!((key, md[1]) in ni)) continue
			printf "%-20s %-7s", key, "irq/pkt"
			for (d = 1; d <= nm; d++) printf " %12.3f %6s", median(irq, key, md[d], ni[key, md[d]]), ""
			printf "\n"
		}
	}
	if (hdr) printf "\n"
}
END {
	table("disk test", "pvblk virtio-blk ide", 3)
	table("udp test", "pvnet virtio-net e1000", 3)
	print "medians of the rounds; spread = (max - min) / median; the last two columns: the"
	print "median over the rounds of the first device / that one, both of the same round"
	printf "{\n  \"benchmark\": \"linux\",\n  \"accel\": \"tcg\",\n  \"cases\": [" > json
	split("pvblk virtio-blk ide pvnet virtio-net e1000", all, " ")
	first = 1
	for (k = 1; k <= nk; k++) {
		key = order[k]
		printf "%s\n    {\"name\": \"%s\", \"unit\": \"%s\"", (first ? "" : ","), key, unit[key] > json
		first = 0
		for (d = 1; d <= 6; d++) {
			mo = all[d]
			if (!((key, mo) in n)) continue
			c = n[key, mo]; me = median(v, key, mo, c); sp = spread(v, key, mo, c)
			if (!(me > 0)) bad = bad " " key "/" mo
			printf ", \"%s\": %.1f, \"%s_spread\": %.4g", mo, me, mo, sp > json
			if ((key, mo) in ni) printf ", \"%s_irqs_per_packet\": %.4g", mo, median(irq, key, mo, ni[key, mo]) > json
			if (d == 2 || d == 5) printf ", \"%s_per_round_ratio\": %.4g", all[d - 1] "_vs_" mo, ratio(key, all[d - 1], mo) > json
			if (d == 3 || d == 6) printf ", \"%s_per_round_ratio\": %.4g", all[d - 2] "_vs_" mo, ratio(key, all[d - 2], mo) > json
			printf "linux\t%s\t%s\t%s\t%.6g\t%.4g\t-1\t-1\n", key, mo, unit[key], me, sp >> tsv
		}
		printf "}" > json
	}
	printf "\n  ]\n}\n" > json
	# A zero is a record lost or a device that did nothing: never a figure.
	if (bad != "") { printf "bench-linux: FAIL: no figure for%s\n", bad > "/dev/stderr"; exit 1 }
}' "$work/rounds.txt" | tee "$out/linux.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1
if [[ $do_net == 1 ]]; then
	grep '^NETSTAT' "$work/console.log" | sed 's/^NETSTAT /guest counters: /' | tee -a "$out/linux.txt"
	echo "pvnet's tx watchdog fired $(grep -c '^.*pvnet .*NETDEV WATCHDOG' "$work/console.log") times (each: every id in flight for 0.5 s, then pvnet rings again)" |
		tee -a "$out/linux.txt"
	{ grep -E 'net0\.(tx_frames|rx_frames|tx_batches|guest_kicks|notifications_sent|notifications_suppressed|rx_dropped_no_buffer) ' "$work/serve.log" || true; } |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : "pvkvm serve (pvnet, whole run): "), $1, $2 } END { if (NR) print "" }' | tee -a "$out/linux.txt"
fi
echo "$prog: tables in $out/linux.txt, $out/linux.json; raw lines in $work/console.log"
