#!/usr/bin/env bash
# Writes pvkvm(1) from the binary's own --help texts, so the manual can never
# say something --help does not: every command `pvkvm --help` lists, and every
# benchmark `pvkvm bench --list` names, gets its help as a section.
#
#   scripts/mkman.sh PVKVM OUT.1
set -euo pipefail
pvkvm=${1:?usage: mkman.sh PVKVM OUT.1}
out=${2:?usage: mkman.sh PVKVM OUT.1}

# roff: protect backslashes and lines that start with a dot or a quote.
roff_text() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

section() { # title, then the help text on stdin
	printf '.SH %s\n.nf\n' "$1"
	roff_text
	printf '.fi\n'
}

commands=$("$pvkvm" --help | awk '/^commands:/ {on = 1; next} on && NF == 0 {exit} on {print $1}')
version=$("$pvkvm" --version 2>/dev/null | head -n1 || echo pvkvm)
{
	printf '.TH PVKVM 1 "" "%s" "User Commands"\n' "$version"
	printf '.SH NAME\npvkvm \\- Xen-style paravirtualization on KVM\n'
	"$pvkvm" --help | section SYNOPSIS
	for c in $commands; do
		"$pvkvm" "$c" --help | section "PVKVM $(tr '[:lower:]' '[:upper:]' <<<"$c")"
	done
	for b in $("$pvkvm" bench --list 2>/dev/null); do
		"$pvkvm" bench "$b" --help | section "PVKVM BENCH $(tr '[:lower:]' '[:upper:]' <<<"$b")"
	done
	printf '.SH FILES\n.TP\n.I PREFIX/share/pvkvm/pvkern.elf\n'
	printf 'the default guest kernel, used by pvkvm bench when --guest is not given\n'
	printf '.SH SEE ALSO\nThe project documentation in docs/ of the source tree: architecture.md, abi.md, benchmarks.md.\n'
} >"$out.tmp"
mv "$out.tmp" "$out"
