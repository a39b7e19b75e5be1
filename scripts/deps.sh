#!/usr/bin/env bash
# deps.sh - install everything firn needs to build and test on a fresh Debian 12:
# the C libraries and tools (apt) and the independent readers used by the
# interop tests (npm ci in tests/interop).
#   scripts/deps.sh              install (apt-get update + install, npm ci)
#   scripts/deps.sh --if-missing only when something is missing (make demo/test call this)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    build-essential pkg-config clang-14 libclang-rt-14-dev valgrind
    libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libjansson-dev libxxhash-dev libsqlite3-dev
    librdkafka-dev libturbojpeg0-dev libpng-dev libyaml-dev libmicrohttpd-dev \
    libcurl4-openssl-dev libssl-dev libpq-dev postgresql-15 kcat
    python3-avro nodejs npm chromium
    mmdebstrap
)

missing() {
    for p in "${APT_PACKAGES[@]}"; do
        if [ "$p" = nodejs ] || [ "$p" = npm ]; then
            command -v "$p" >/dev/null 2>&1 || { echo "$p"; return; }
            continue
        fi
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || { echo "$p"; return; }
    done
    [ -d tests/interop/node_modules/@duckdb/node-api ] || echo "npm packages"
    # a linked node_modules (a git worktree sharing another checkout's) is never reinstalled
    # from here: npm ci would empty the directory it points to
    [ -L tests/interop/node_modules ] && return 0
    [ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ] && echo "npm packages (lock changed)"
    return 0
}

if [ "${1:-}" = "--if-missing" ]; then
    what=$(missing)
    [ -z "$what" ] && exit 0
    echo "deps: missing $what; installing" >&2
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
apt_list=()
for p in "${APT_PACKAGES[@]}"; do
    if [ "$p" = nodejs ] || [ "$p" = npm ]; then
        command -v "$p" >/dev/null 2>&1 || apt_list+=("$p")
    else
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || apt_list+=("$p")
    fi
done
if [ ${#apt_list[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${apt_list[@]}"
fi
if [ -L tests/interop/node_modules ]; then
    echo "deps: tests/interop/node_modules is a link; not running npm ci through it" >&2
else
    (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi
