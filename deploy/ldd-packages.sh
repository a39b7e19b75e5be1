#!/usr/bin/env bash
# ldd-packages.sh BINARY - the Debian packages owning every shared library BINARY loads
# (ldd, then dpkg -S), sorted, one a line. Fails when a library does not resolve or no
# package owns it. deploy/runtime-packages.txt must list exactly these (plus data: lines).
set -euo pipefail
bin=${1:?usage: ldd-packages.sh BINARY}
out=$(ldd "$bin") || { echo "ldd-packages: ldd $bin failed" >&2; exit 1; }
if grep -q 'not found' <<<"$out"; then
    echo "ldd-packages: unresolved libraries:" >&2; grep 'not found' <<<"$out" >&2; exit 1
fi
# "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out" | sort -u |
while read -r lib; do
    owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null) || {
        echo "ldd-packages: no package owns $lib" >&2; exit 1; }
    echo "${owner%%:*}"
done | sed 's/,.*//' | sort -u
