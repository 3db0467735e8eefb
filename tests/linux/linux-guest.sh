#!/usr/bin/env bash
# pvkvm's Linux guest drivers in a real Linux VM: Debian's kernel under QEMU
# TCG with an ivshmem-doorbell device attached to `pvkvm serve`, pvbus.ko
# and pvblk.ko built against Debian's headers and loaded in the VM.
#
#   tests/linux/linux-guest.sh [--keep] [-h|--help]
#
# One daemon, four guests in turn, on one image:
#   1. write: dd a pattern to /dev/pvda (checked on the host, byte for byte),
#      mke2fs, mount, write a file, read it back, umount, rmmod (the host
#      then fscks the image);
#   2. a hostile peer (ivshmem-garbage): garbage in the region, impossible
#      rings, a broken ring, a doorbell storm, a drop without a word;
#   3. verify: the disk again (pattern, file), rmmod + insmod, then QEMU is
#      killed (SIGKILL) in the middle of a write;
#   4. final: the disk once more, then rmmod with I/O in flight (a reader
#      of /dev/pvda, frames going out of eth0).
# The daemon must serve each in turn and stop cleanly on SIGTERM.
#
# Environment: BUILD (default build), LINUX_GUEST_TIMEOUT (seconds per
# guest, default 240: the machine may be busy), LINUX_GUEST_KVER (default: the newest kernel in /boot
# with headers). Exit 0 pass, 77 skip (no QEMU, kernel or headers), 1 fail.
set -euo pipefail

prog=linux-guest
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
guest_timeout=${LINUX_GUEST_TIMEOUT:-240}
keep=0
for arg in "$@"; do
	case $arg in
	--keep) keep=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$prog: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

skip() { echo "$prog: SKIP: $*"; exit 77; }
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "$prog: ok: $1"; }
bad() { failed=$((failed + 1)); echo "$prog: FAIL: $1"; }

# --- what the test needs -----------------------------------------------------------
scripts/deps.sh --guest --kmod || echo "$prog: scripts/deps.sh failed; checking what is there anyway"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (Debian: qemu-system-x86)"
[[ -x /bin/busybox ]] || skip "busybox-static not installed"
command -v mke2fs >/dev/null && command -v e2fsck >/dev/null || skip "e2fsprogs not installed"
kver=${LINUX_GUEST_KVER:-}
if [[ -z $kver ]]; then
	for img in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
		v=${img#/boot/vmlinuz-}
		[[ -d /usr/src/linux-headers-$v && -d /lib/modules/$v ]] && { kver=$v; break; }
	done
fi
[[ -n $kver ]] || skip "no Debian kernel in /boot with its linux-headers (Debian: linux-image-amd64, linux-headers-amd64)"
kernel=/boot/vmlinuz-$kver
pvkvm=$BUILD/pvkvm garbage=$BUILD/tests/linux/ivshmem-garbage
[[ -x $pvkvm && -x $garbage ]] || skip "$pvkvm or $garbage not built (make)"

work=$BUILD/linux-guest/run.$$
mkdir -p "$work"
serve_pid='' qemu_pid='' ns=pvkvm-lg-$$
cleanup() {
	local rc=$?
	ip netns del "$ns" 2>/dev/null
	[[ -n $qemu_pid ]] && kill -9 "$qemu_pid" 2>/dev/null
	[[ -n $serve_pid ]] && kill -9 "$serve_pid" 2>/dev/null
	if [[ $keep -eq 0 && $failed -eq 0 && $rc -eq 0 ]]; then rm -rf "$work"; else echo "$prog: kept $work"; fi
	return 0
}
trap cleanup EXIT

# --- modules and initramfs ---------------------------------------------------------
if ! make --no-print-directory -s BUILD="$BUILD" KDIR="/usr/src/linux-headers-$kver" \
	linux-modules >"$work/kbuild.log" 2>&1; then
	cat "$work/kbuild.log"
	bad "the modules build against linux-headers-$kver"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "pvbus.ko, pvblk.ko and pvnet.ko build against linux-headers-$kver"
mods=$BUILD/linux-modules
for m in pvbus pvblk pvnet; do
	if modinfo -F parm "$mods/$m.ko" >"$work/$m.parm" && [[ $m == pvbus || -s $work/$m.parm ]]; then :; else
		bad "modinfo $m.ko lists its parameters"
	fi
done

cc -O2 -static -Wall -Werror -o "$work/udpx" tests/linux/udpx.c || skip "cannot build a static binary (libc6-dev?)"
scripts/mk-initramfs.sh -o "$work/initrd.gz" -i tests/linux/guest-init.sh -k "$kver" -m ext4 -m crc32c_generic \
	-f "$mods/pvbus.ko:/lib/pv/pvbus.ko" -f "$mods/pvblk.ko:/lib/pv/pvblk.ko" \
	-f "$mods/pvnet.ko:/lib/pv/pvnet.ko" -f "$work/udpx:/bin/udpx" \
	-f "$(command -v mke2fs):/sbin/mke2fs" -f /etc/mke2fs.conf:/etc/mke2fs.conf

# --- the daemon ----------------------------------------------------------------------
img=$work/disk.img sock=$work/pv.sock slog=$work/serve.log
truncate -s 64M "$img"
# The NIC's wire: a TAP in a namespace of our own, made before the daemon
# (which runs in it) attaches, so it keeps its address across guests.
command -v ip >/dev/null || skip "iproute2 not installed"
ip netns add "$ns" || skip "cannot create a network namespace"
ip netns exec "$ns" ip tuntap add dev pvtap0 mode tap vnet_hdr
ip netns exec "$ns" ip addr add 10.77.0.1/24 dev pvtap0
ip netns exec "$ns" ip link set pvtap0 up
ip netns exec "$ns" "$pvkvm" serve --socket "$sock" --disk "$img" --net tap=pvtap0 --stats 2>"$slog" &
serve_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.05; done
[[ -S $sock ]] || { cat "$slog"; bad "pvkvm serve listens on $sock"; exit 1; }

serve_alive() { kill -0 "$serve_pid" 2>/dev/null; }

# Boots a guest for one phase and waits until its console shows $2.
boot() {
	local phase=$1 log=$work/console-$1.log
	: >"$log"
	# maxcpus=2: QEMU 7.2 TCG emits no barriers for a guest that can only
	# ever have one vCPU, and the rings shared with the daemon need them.
	qemu-system-x86_64 -accel tcg -m 512 -smp 1,maxcpus=2 -nographic -no-reboot -net none \
		-kernel "$kernel" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 pvphase=$phase" \
		-chardev socket,path="$sock",id=pv -device ivshmem-doorbell,chardev=pv,vectors=3 \
		</dev/null >"$log" 2>&1 &
	qemu_pid=$!
	disown "$qemu_pid" # killed on purpose below: no "Killed" line from bash
	boot_start=$SECONDS
	boot_wait "$phase" "$2"
}

# Waits until the console shows $2, a failure, or the guest's end; past the
# time limit it says so loudly and kills the guest.
boot_wait() {
	local phase=$1 until=$2 log=$work/console-$1.log
	while ! grep -q -e "$until" -e '^PV: FAIL' "$log" 2>/dev/null; do
		if ! kill -0 "$qemu_pid" 2>/dev/null; then break; fi
		if ((SECONDS - boot_start > guest_timeout)); then
			bad "TIMEOUT: guest '$phase' showed no '$until' within ${guest_timeout}s"
			kill -9 "$qemu_pid"
			break
		fi
		sleep 0.2
	done
	echo "$prog: guest '$phase' at '$until' after $((SECONDS - boot_start)) s"
}

# Waits for the guest to end (10 s at most, then kills it) and cleans its
# console log: terminal escapes (CSI sequences, ESC c) and CRs out.
wait_qemu() {
	local i log=$work/console-$1.log
	for i in $(seq 50); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.2; done
	kill -9 "$qemu_pid" 2>/dev/null || true
	qemu_pid=''
	sed -i -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[@-Z\\-_a-z]//g' -e 's/\r//g' "$log"
}

show() { sed 's/^/  guest| /' "$1" | grep -v '^  guest| *$' | tail -n 40; }

expect() { # expect LOG MARKER WHAT
	if grep -q "^PV: $2" "$1"; then ok "$3"; else bad "$3"; show "$1"; fi
}

# yes dies of SIGPIPE once head has its bytes: not a failure.
want_pattern=$( (yes pvkvm-linux-guest-pattern || true) | head -c 1048576 | md5sum | cut -d' ' -f1)

# --- 1: write ------------------------------------------------------------------------
ip netns exec "$ns" "$work/udpx" recv 5555 300 >"$work/udp-from-guest" 2>&1 &
udp_pid=$!
boot write 'PV: udp listening'
for _ in $(seq 120); do
	grep -q '^PV: udp got\|^PV: FAIL' "$work/console-write.log" && break
	ip netns exec "$ns" "$work/udpx" send 10.77.0.2 6666 pvkvm-udp-from-host || true
	sleep 0.5
done
# While this guest is served, another connection is refused (one line),
# and the guest goes on.
if "$garbage" "$sock" >"$work/second.log" 2>&1; then second=accepted; else second=refused; fi
boot_wait write 'PV: done write'
wait_qemu write
if [[ $second == refused ]] && grep -q 'a second guest connected while one is served: refused' "$slog"; then
	ok "a second peer is refused while a guest is served"
else
	bad "a second peer was $second while a guest was served"
fi
wait "$udp_pid" 2>/dev/null || true
log=$work/console-write.log
{ grep '^PV: ' "$log" || true; } | sed 's/^/  /'
expect "$log" "disk 131072 sectors" "the guest sees a 64 MiB /dev/pvda"
expect "$log" "pattern ok $want_pattern" "dd writes and reads back a 1 MiB pattern"
expect "$log" "file ok $want_pattern" "mke2fs, mount, write a file, umount, mount, read it back"
expect "$log" "rmmod ok" "rmmod pvnet, pvblk and pvbus, eth0 and /dev/pvda gone"
expect "$log" "eth0 mac 52:54:00:.* mtu 1500 carrier 1" "pvnet: MAC and MTU from the config, carrier up"
expect "$log" "ping ok" "pvnet: the guest pings the TAP's address in the namespace"
expect "$log" "udp got pvkvm-udp-from-host" "pvnet: a UDP datagram from the namespace reaches the guest"
if grep -q '^pvkvm-udp-from-guest$' "$work/udp-from-guest"; then ok "pvnet: a UDP datagram from the guest reaches the namespace"; else bad "no UDP datagram from the guest in the namespace"; fi
got=$(dd if="$img" bs=65536 skip=768 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
if [[ $got == "$want_pattern" ]]; then ok "the image holds the pattern at 48 MiB (host read)"; else bad "the image holds $got at 48 MiB, not the pattern"; fi
if e2fsck -fn "$img" >"$work/fsck.log" 2>&1; then ok "e2fsck -fn on the host finds the file system clean"; else cat "$work/fsck.log"; bad "e2fsck on the host"; fi
if serve_alive; then ok "the daemon outlives a guest that powered off"; else bad "the daemon died with the first guest"; fi

# --- 2: a hostile peer ---------------------------------------------------------------
if timeout 30 "$garbage" "$sock" >"$work/garbage.log" 2>&1; then
	ok "a hostile peer's garbage, impossible rings and broken ring all reached the daemon"
else
	cat "$work/garbage.log"
	bad "the hostile peer could not do every step"
fi
sleep 0.3
if serve_alive; then ok "the daemon survives the hostile peer"; else bad "the hostile peer killed the daemon"; cat "$slog"; fi
if grep -q 'ring broken' "$slog"; then ok "the broken ring is logged"; else bad "no 'ring broken' line in the daemon's log"; fi

# --- 3: verify, then SIGKILL mid-write --------------------------------------------------
boot verify 'PV: busy'
[[ -n $qemu_pid ]] && kill -9 "$qemu_pid" 2>/dev/null
wait_qemu verify
log=$work/console-verify.log
{ grep '^PV: ' "$log" || true; } | sed 's/^/  /'
expect "$log" "file ok $want_pattern" "a new QEMU on the same daemon finds the file"
expect "$log" "rmmod ok" "rmmod with the disk in use before, then insmod again"
expect "$log" "busy" "the guest was writing when QEMU was killed"
sleep 0.3
if serve_alive; then ok "the daemon survives a QEMU killed mid-write"; else bad "the daemon died with a killed QEMU"; fi

# --- 4: final --------------------------------------------------------------------------
boot final 'PV: done final'
wait_qemu final
log=$work/console-final.log
{ grep '^PV: ' "$log" || true; } | sed 's/^/  /'
expect "$log" "pattern ok $want_pattern" "after the kill: the pattern is intact"
expect "$log" "file ok $want_pattern" "after the kill: the file is intact"
expect "$log" "ping ok" "after the kill: the NIC works again"
expect "$log" "unload in flight ok" "after the kill: rmmod with I/O in flight (pvblk refused while its disk is read, pvnet with frames going out), then all three"
if grep -q '^PV: FAIL' "$work"/console-*.log; then bad "a guest reported a failure"; grep -h '^PV: FAIL' "$work"/console-*.log || true; fi

# --- the daemon's end ---------------------------------------------------------------
kill -TERM "$serve_pid"
rc=0
wait "$serve_pid" || rc=$?
serve_pid=''
if [[ $rc -eq 0 ]]; then ok "pvkvm serve stops cleanly on SIGTERM"; else bad "pvkvm serve exited $rc on SIGTERM"; fi
if [[ ! -e $sock ]]; then ok "the socket is removed"; else bad "the socket is left behind"; fi
echo "$prog: the daemon's log:"
sed 's/^/  serve| /' "$slog" | tail -n 60
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
