#!/bin/sh
# /init of the Linux-guest test's initramfs (tests/linux/linux-guest.sh).
# Loads ext4's modules, then pvbus and pvblk, and runs the phase named by
# pvphase= on the kernel command line. Every result is a "PV: " line on the
# console, which the host reads; "PV: FAIL ..." or a missing line fails it.
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
# SeaBIOS leaves "Booting from ROM.." without a newline and the quiet
# kernel adds none: start our lines at the start of a line.
echo
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mkdir -p /mnt

phase=$(sed -n 's/.*pvphase=\([a-z]*\).*/\1/p' /proc/cmdline)
kver=$(cat /etc/initramfs-kver)
for m in $(cat "/lib/modules/$kver/load-order"); do
	insmod "$m" || echo "PV: FAIL insmod $m"
done

say() { echo "PV: $*"; }
fail() { echo "PV: FAIL $*"; poweroff -f; }

# The pattern: 1 MiB the host can rebuild (yes | head), written at 48 MiB,
# past the 32 MiB file system.
pattern() { yes pvkvm-linux-guest-pattern | head -c 1048576; }
PAT_SEEK=768 # 64 KiB blocks: 48 MiB

load_pv() {
	insmod /lib/pv/pvbus.ko || fail "insmod pvbus"
	insmod /lib/pv/pvblk.ko || fail "insmod pvblk"
	insmod /lib/pv/pvnet.ko || fail "insmod pvnet"
	i=0
	while [ ! -b /dev/pvda ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -b /dev/pvda ] || fail "no /dev/pvda after 30 s"
	say "disk $(cat /sys/block/pvda/size) sectors"
}

unload_pv() {
	ip link set eth0 down 2>/dev/null
	rmmod pvnet || fail "rmmod pvnet"
	[ -e /sys/class/net/eth0 ] && fail "eth0 still there after rmmod"
	rmmod pvblk || fail "rmmod pvblk"
	rmmod pvbus || fail "rmmod pvbus"
	[ -b /dev/pvda ] && fail "/dev/pvda still there after rmmod"
	say "rmmod ok"
}

# Unloading with I/O in flight: frames going out of eth0 and a reader of
# /dev/pvda. pvblk must refuse (the disk is open) without hanging, pvnet
# must go with frames in its rings; then everything unloads as usual.
unload_in_flight() {
	(while :; do /bin/udpx send 10.77.0.1 9 pvkvm-in-flight >/dev/null 2>&1; done) &
	sender=$!
	dd if=/dev/pvda of=/dev/null bs=4096 count=1000000 2>/dev/null &
	reader=$!
	sleep 1
	rmmod pvblk 2>/dev/null && fail "rmmod pvblk went through with the disk open"
	rmmod pvnet || fail "rmmod pvnet with frames in flight"
	[ -e /sys/class/net/eth0 ] && fail "eth0 still there after rmmod"
	kill $sender $reader
	wait $sender $reader 2>/dev/null
	rmmod pvblk || fail "rmmod pvblk once the reader is gone"
	rmmod pvbus || fail "rmmod pvbus"
	[ -b /dev/pvda ] && fail "/dev/pvda still there after rmmod"
	say "unload in flight ok"
}

check_file() {
	mount -t ext2 /dev/pvda /mnt || fail "mount"
	want=$(pattern | md5sum | cut -d' ' -f1)
	got=$(md5sum /mnt/file | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "file reads back $got, wrote $want"
	umount /mnt || fail "umount"
	say "file ok $got"
}

check_pattern() {
	want=$(pattern | md5sum | cut -d' ' -f1)
	got=$(dd if=/dev/pvda bs=65536 skip=$PAT_SEEK count=16 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "pattern reads back $got, wrote $want"
	say "pattern ok $got"
}

# The PV NIC against the TAP in the host's test namespace (10.77.0.1).
net_up() {
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e /sys/class/net/eth0 ] || fail "no eth0 after 30 s"
	ip link set eth0 up || fail "ip link set eth0 up"
	ip addr add 10.77.0.2/24 dev eth0 || fail "ip addr add"
	i=0
	while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	say "eth0 mac $(cat /sys/class/net/eth0/address) mtu $(cat /sys/class/net/eth0/mtu) carrier $(cat /sys/class/net/eth0/carrier)"
	ping -c 3 -W 5 10.77.0.1 >/tmp/ping.out 2>&1 && say "ping ok" ||
		{ cat /tmp/ping.out; fail "ping 10.77.0.1"; }
}

net_udp() {
	/bin/udpx send 10.77.0.1 5555 pvkvm-udp-from-guest || fail "udp send"
	say "udp sent"
	say "udp listening"
	got=$(/bin/udpx recv 6666 60) || fail "no udp datagram from the host in 60 s"
	say "udp got $got"
	say "eth0 stats rx_packets $(cat /sys/class/net/eth0/statistics/rx_packets) tx_packets $(cat /sys/class/net/eth0/statistics/tx_packets) rx_dropped $(cat /sys/class/net/eth0/statistics/rx_dropped) tx_dropped $(cat /sys/class/net/eth0/statistics/tx_dropped)"
}

case $phase in
write)
	load_pv
	net_up
	net_udp
	pattern >/tmp/pat
	dd if=/tmp/pat of=/dev/pvda bs=65536 seek=$PAT_SEEK conv=fsync 2>/dev/null ||
		fail "dd to /dev/pvda"
	echo 3 >/proc/sys/vm/drop_caches
	check_pattern
	# e2fsprogs' mke2fs, by path: busybox's shell prefers its own applet.
	/sbin/mke2fs -q -t ext2 -F /dev/pvda 32768 || fail "mke2fs"
	mount -t ext2 /dev/pvda /mnt || fail "mount after mke2fs"
	cp /tmp/pat /mnt/file || fail "cp to the file system"
	sync
	umount /mnt || fail "umount"
	echo 3 >/proc/sys/vm/drop_caches
	check_file
	cat /sys/bus/pvbus/devices/blk0/pvblk/stats | tr '\n' ' ' | sed 's/^/PV: stats /'
	echo
	unload_pv
	;;
verify)
	load_pv
	check_pattern
	check_file
	unload_pv
	load_pv
	check_pattern
	# Writes the host kills us in the middle of (past the file system and
	# the pattern): the daemon must take the next guest all the same.
	say "busy"
	dd if=/dev/zero of=/dev/pvda bs=65536 seek=640 count=128 conv=fsync 2>/dev/null
	say "busy done"
	sleep 30
	;;
final)
	load_pv
	net_up
	check_pattern
	check_file
	unload_in_flight
	;;
*)
	fail "unknown pvphase '$phase'"
	;;
esac
say "done $phase"
poweroff -f
