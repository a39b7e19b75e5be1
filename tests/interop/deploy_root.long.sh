#!/usr/bin/env bash
# deploy_root.long.sh - the runtime image without a Docker daemon: mmdebstrap builds a minimal
# Debian 12 root (variant minbase, what debian:12-slim is) holding exactly
# deploy/runtime-packages.txt, creates the image's user with the Dockerfile's own useradd line,
# copies build/firn in, and runs `firn --version` and a short `firn run` in it with chroot as
# that user. A library missing from the list fails here. The root is cached under
# build/deploy-root/<hash of list, Dockerfile user line and apt sources>, so reruns take seconds;
# the first build downloads ~50 MB from the apt sources the machine is configured with
# (/etc/apt/sources.list.d/debian.sources) and takes about 1.5 minutes.
source "$(dirname "$0")/lib.sh"
D=deploy
pkgs=$(sed -e 's/#.*//' "$D/runtime-packages.txt" | awk 'NF {print $1}' | paste -sd, -)
# the Dockerfile's groupadd + useradd commands (continuation lines joined), run in the root
useradd_cmd=$(sed -n '/AS runtime/,$p' "$D/Dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
              grep -o 'groupadd .*useradd [^&]*' | sed 's/ *$//')
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
key=$(printf '%s\n' "$pkgs" "$useradd_cmd" | cat - "$sources" | sha256sum | cut -c1-16)
ROOT=$PWD/build/deploy-root/$key

build_root() {
    [ -x "$ROOT/usr/local/bin" ] && [ -f "$ROOT/.firn-root-ok" ] && return 0
    if ! command -v mmdebstrap >/dev/null; then
        echo "mmdebstrap is not installed (scripts/deps.sh installs it: apt-get install mmdebstrap)"; return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then echo "building and entering the root needs root (chroot)"; return 1; fi
    rm -rf "$ROOT.tmp"; mkdir -p "$(dirname "$ROOT")"
    if ! mmdebstrap --quiet --variant=minbase --include="$pkgs" \
           --customize-hook="chroot \"\$1\" /bin/sh -c '$useradd_cmd'" \
           bookworm "$ROOT.tmp" "$sources" >"$WORK/mmdebstrap.log" 2>&1; then
        tail -n 20 "$WORK/mmdebstrap.log"
        echo "mmdebstrap could not build the Debian 12 root from $sources (offline? the mirror must be reachable)"
        return 1
    fi
    touch "$ROOT.tmp/.firn-root-ok" && mv "$ROOT.tmp" "$ROOT"
}
check "mmdebstrap: a Debian 12 minbase root with runtime-packages.txt and the firn user" build_root
if [ ! -f "$ROOT/.firn-root-ok" ]; then finish; exit 1; fi

installed() {
    local want have
    want=$(tr , '\n' <<<"$pkgs" | sort)
    have=$(chroot "$ROOT" dpkg-query -W -f '${Package}\n' | sort)
    comm -23 <(echo "$want") <(echo "$have") | grep . && return 1
    chroot "$ROOT" getent passwd firn | grep -q '^firn:x:10001:10001:'
}
check "the root holds every listed package and the user firn (10001)" installed
install -m 0755 "$FIRN" "$ROOT/usr/local/bin/firn"
install -m 0755 "$D/healthcheck.sh" "$ROOT/usr/local/bin/firn-healthcheck"
as_firn() { chroot --userspec=10001:10001 "$ROOT" /bin/sh -c "cd /var/lib/firn && $*"; }
check "firn --version in the runtime root, as the firn user" bash -c \
    "$(declare -f as_firn); ROOT=$ROOT; as_firn /usr/local/bin/firn --version | grep -Eqx 'firn [0-9.]+'"
rm -rf "$ROOT/var/lib/firn/w"
short_run() {
    as_firn "mkdir w && cd w && /usr/local/bin/firn run --sim-events 50 --until-drained" >"$WORK/run.out" 2>&1 ||
        { cat "$WORK/run.out"; return 1; }
    grep -q '50 simulated' "$WORK/run.out" && grep -q ' 50 trusted, 0 untrusted' "$WORK/run.out" &&
    grep -q ' 0 failed)' "$WORK/run.out" || { cat "$WORK/run.out"; return 1; }
    as_firn "cd w && /usr/local/bin/firn table list production --warehouse warehouse" | grep -q parking_entry
}
check "firn run --sim-events 50 --until-drained in the runtime root: 50 trusted rows published" short_run
rm -rf "$ROOT/var/lib/firn/w"
# the control: the same root with one listed library taken away must fail to start firn
missing_lib() {
    local lib=$ROOT/usr/lib/x86_64-linux-gnu/libyaml-0.so.2
    [ -e "$lib" ] || { echo "no $lib"; return 1; }
    mv "$lib" "$lib.away"
    local out rc
    out=$(chroot "$ROOT" /usr/local/bin/firn --version 2>&1); rc=$?
    mv "$lib.away" "$lib"
    [ $rc -ne 0 ] && grep -q 'libyaml-0.so.2: cannot open shared object' <<<"$out"
}
check "control: without libyaml-0-2's library firn does not start in the root" missing_lib
finish
