#!/usr/bin/env bash
# Builds a gzip'd newc cpio initramfs for booting a stock Linux kernel under
# QEMU: busybox-static, chosen files (dynamic binaries bring their shared
# libraries and the dynamic loader), kernel modules (dependencies resolved from
# modules.dep, decompressed) and an init script.
#
#   scripts/mk-initramfs.sh -o OUT.cpio.gz [options]
#
#   -o, --output FILE      the archive to write (required)
#   -i, --init FILE        the init script (/init in the archive); without it
#                          a small default init loads the modules and starts
#                          a shell on the console
#   -f, --file SRC[:DEST]  copy SRC to DEST in the archive (default
#                          /bin/<basename of SRC>); a dynamically linked ELF
#                          brings every library `ldd` lists and its loader
#   -m, --module NAME      a kernel module and its dependencies (kvm_amd or
#                          kvm-amd); loaded in dependency order by /init
#   -k, --kver VERSION     kernel version whose modules to use (default: the
#                          newest /boot/vmlinuz-* with a /lib/modules tree)
#   -b, --busybox PATH     busybox binary (default: /bin/busybox; must be static)
#   -w, --workdir DIR      staging directory (default: a temporary one, removed)
#   -h, --help             this text
#
# Inside the archive: busybox applets under /bin /sbin /usr/bin /usr/sbin,
# modules under /lib/modules/<ver>/ and, in load order, their paths in
# /lib/modules/<ver>/load-order (one a line; /etc/initramfs-kver names <ver>).
# The archive's /dev holds a console node when built as root; an init should
# still mount devtmpfs on /dev and reopen /dev/console (the default one does).
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

output='' init='' kver='' busybox=/bin/busybox workdir=''
files=() modules=()
while [[ $# -gt 0 ]]; do
	case $1 in
	-o | --output) output=${2:?}; shift 2 ;;
	-i | --init) init=${2:?}; shift 2 ;;
	-f | --file) files+=("${2:?}"); shift 2 ;;
	-m | --module) modules+=("${2:?}"); shift 2 ;;
	-k | --kver) kver=${2:?}; shift 2 ;;
	-b | --busybox) busybox=${2:?}; shift 2 ;;
	-w | --workdir) workdir=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
[[ -n $output ]] || die "no --output given (try --help)"
[[ -x $busybox ]] || die "busybox not found at $busybox (Debian: busybox-static)"
if readelf -lW "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	die "$busybox is dynamically linked; use the busybox-static package's"
fi
[[ -z $init || -f $init ]] || die "init script $init not found"
for cmd in cpio gzip readelf ldd; do
	command -v "$cmd" >/dev/null || die "'$cmd' is needed and not installed"
done

if [[ -n $workdir ]]; then
	root=$workdir
	rm -rf "$root"
	mkdir -p "$root"
else
	root=$(mktemp -d)
	trap 'rm -rf "$root"' EXIT
fi

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lib,lib64}

# --- busybox and its applets --------------------------------------------------
cp "$busybox" "$root/bin/busybox"
while read -r applet; do
	[[ -z $applet || $applet == bin/busybox ]] && continue
	mkdir -p "$root/$(dirname "$applet")"
	ln -sf /bin/busybox "$root/$applet"
done < <("$busybox" --list-full)

# --- files and their shared libraries ----------------------------------------
# Copies a file to the same absolute path inside the archive (libraries, loader).
copy_same_path() {
	local src=$1
	[[ -e $root$src ]] && return 0
	mkdir -p "$root$(dirname "$src")"
	cp -L "$src" "$root$src"
}

is_dynamic_elf() {
	readelf -lW "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

for spec in "${files[@]}"; do
	src=${spec%%:*}
	if [[ $spec == *:* ]]; then dest=${spec#*:}; else dest=/bin/$(basename "$src"); fi
	[[ $dest == /* ]] || die "destination '$dest' must be an absolute path"
	[[ -f $src ]] || die "file $src not found"
	mkdir -p "$root$(dirname "$dest")"
	# DEST may be a busybox applet: a symlink to /bin/busybox, which cp
	# would follow and overwrite on the host. Replace the link instead.
	rm -f "$root$dest"
	cp -L "$src" "$root$dest"
	if is_dynamic_elf "$src"; then
		interp=$(readelf -lW "$src" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
		[[ -e $interp ]] || die "$src wants loader $interp, which is missing"
		copy_same_path "$interp"
		# ldd lines: "libx.so => /path/libx.so (0x...)", "/lib64/ld-... (0x...)",
		# "linux-vdso.so.1 (0x...)" (in the kernel, nothing to copy).
		ldd_out=$(ldd "$src") || die "ldd failed on $src"
		if grep -q '=> not found' <<<"$ldd_out"; then
			die "$src needs libraries that are not installed: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t' ' ')"
		fi
		while read -r lib; do
			copy_same_path "$lib"
		done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
	fi
done

# --- kernel modules ------------------------------------------------------------
if [[ -z $kver ]]; then
	for img in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
		v=${img#/boot/vmlinuz-}
		[[ -d /lib/modules/$v ]] && { kver=$v; break; }
	done
fi
if [[ ${#modules[@]} -gt 0 ]]; then
	[[ -n $kver ]] || die "modules asked for, but no kernel with modules found (give --kver)"
	moddir=/lib/modules/$kver
	depfile=$moddir/modules.dep
	[[ -f $depfile ]] || die "$depfile not found (is the kernel's package installed?)"

	# modules.dep: "kernel/a/b.ko[.xz]: dep1.ko dep2.ko ..." (paths relative to moddir)
	find_module() {
		local want=${1//-/_} path base
		while IFS=: read -r path _; do
			base=${path##*/}
			base=${base%%.ko*}
			if [[ ${base//-/_} == "$want" ]]; then
				echo "$path"
				return 0
			fi
		done <"$depfile"
		return 1
	}
	deps_of() { grep -E "^${1//./\\.}:" "$depfile" | cut -d: -f2-; }

	order=()
	declare -A seen=()
	visit() { # depth first: every dependency before the module that needs it
		local path=$1 dep
		[[ -n ${seen[$path]:-} ]] && return 0
		seen[$path]=1
		for dep in $(deps_of "$path"); do visit "$dep"; done
		order+=("$path")
	}
	for m in "${modules[@]}"; do
		path=$(find_module "$m") || die "module '$m' is not in $depfile"
		visit "$path"
	done

	echo "$kver" >"$root/etc/initramfs-kver"
	: >"$root/tmp/load-order"
	for path in "${order[@]}"; do
		src=$moddir/$path
		dest=$root$moddir/${path%%.ko*}.ko
		mkdir -p "$(dirname "$dest")"
		case $path in
		*.ko) cp "$src" "$dest" ;;
		*.ko.xz) xz -dc "$src" >"$dest" ;;
		*.ko.zst) zstd -qdc "$src" >"$dest" ;;
		*.ko.gz) gzip -dc "$src" >"$dest" ;;
		*) die "unknown module format: $path" ;;
		esac
		echo "$moddir/${path%%.ko*}.ko" >>"$root/tmp/load-order"
	done
	mv "$root/tmp/load-order" "$root$moddir/load-order"
fi

# --- init ---------------------------------------------------------------------------
if [[ -n $init ]]; then
	cp "$init" "$root/init"
else
	cat >"$root/init" <<'EOF'
#!/bin/sh
# Default init of scripts/mk-initramfs.sh: mounts, loads modules, starts a shell.
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
kver=$(cat /etc/initramfs-kver 2>/dev/null)
if [ -n "$kver" ] && [ -f "/lib/modules/$kver/load-order" ]; then
	for m in $(cat "/lib/modules/$kver/load-order"); do
		insmod "$m" || echo "init: insmod $m failed"
	done
fi
echo "init: shell on the console; 'poweroff -f' ends the VM"
setsid cttyhack sh
poweroff -f
EOF
fi
chmod 755 "$root/init"

# A console for the kernel to open before /init runs (needs root for mknod).
if [[ $(id -u) -eq 0 ]]; then
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
fi

mkdir -p "$(dirname "$output")"
output=$(cd "$(dirname "$output")" && pwd)/$(basename "$output")
tmp_out=$output.tmp.$$
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 >"$tmp_out")
mv "$tmp_out" "$output"
