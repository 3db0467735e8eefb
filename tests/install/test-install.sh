#!/usr/bin/env bash
# make install into a scratch DESTDIR: the installed pvkvm runs, finds its
# default guest under share/, and its manual is what its --help says.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$here/build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
pass=0 fail=0
check() { # description, command...
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then
		echo "ok - $what"; pass=$((pass + 1))
	else
		echo "not ok - $what"; fail=$((fail + 1))
	fi
}

make -s -C "$here" BUILD="$build" install DESTDIR="$dest" PREFIX=/usr >/dev/null
bin=$dest/usr/bin/pvkvm
man=$dest/usr/share/man/man1/pvkvm.1
check "bin/pvkvm installed and runs" "$bin" --version
check "the default guest is installed" test -r "$dest/usr/share/pvkvm/pvkern.elf"
check "the manual is installed" test -s "$man"
regen=$dest/regen.1
"$here/scripts/mkman.sh" "$bin" "$regen"
check "the manual is exactly what the installed binary's --help says" cmp "$man" "$regen"
for c in $("$bin" --help | awk '/^commands:/ {on = 1; next} on && NF == 0 {exit} on {print $1}'); do
	check "the manual has a section for '$c'" grep -qx ".SH PVKVM ${c^^}" "$man"
done
if [[ -e /dev/kvm ]]; then
	# Finds share/pvkvm/pvkern.elf by itself: no --guest.
	check "installed pvkvm bench finds its default guest" "$bin" bench hypercall -n 100
else
	echo "ok - installed pvkvm bench finds its default guest # SKIP no /dev/kvm"
fi
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
