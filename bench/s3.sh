#!/usr/bin/env bash
# s3.sh - `make bench-s3`: upload and download throughput of FIRN_BENCH_S3_FILES files of
# FIRN_BENCH_S3_MIB MiB (default 8 x 32) through firn's S3 FileIO (build/tools/s3_io)
# against `aws s3 cp --recursive` of the same files to the same moto_server (the aws CLI
# runs up to 10 transfers at once, across files and parts). firn uploads
#  - s3-upload: one file after the other (`s3_io put`), each file's multipart parts
#    FIRN_S3_UPLOAD_CONCURRENCY (default 4) at once: what one firn writer does;
#  - s3-upload-files: FIRN_BENCH_S3_JOBS files at once (default 3, `s3_io put-many`, a
#    thread and an io each), as the aws CLI spreads its transfers over the files;
# and downloads one file after the other (a HEAD and one GET each). Both sides sign every request
# with SigV4 and hash every payload. moto keeps objects in memory in one Python process
# and closes every connection after one request (werkzeug's dev server): it, not the
# network nor the clients, bounds both sides. The machine is shared: FIRN_BENCH_S3_ROUNDS
# rounds (default 3) interleave firn and aws (alternating who goes first) and each side
# keeps its best round.
set -eu
cd "$(dirname "$0")/.."
BUILDDIR=${BUILDDIR:-build}
S3IO=$BUILDDIR/tools/s3_io
N=${FIRN_BENCH_S3_FILES:-8}
MIB=${FIRN_BENCH_S3_MIB:-32}
ROUNDS=${FIRN_BENCH_S3_ROUNDS:-3}
JOBS=${FIRN_BENCH_S3_JOBS:-3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-s3.XXXXXX")
PORT=$(python3.11 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$PORT" >"$dir/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null; rm -rf "$dir"' EXIT
EP=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -s -o /dev/null "$EP/moto-api/" && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 FIRN_S3_ENDPOINT=$EP
unset AWS_SESSION_TOKEN AWS_PROFILE
aws --endpoint-url "$EP" s3 mb s3://bench >/dev/null
mkdir -p "$dir/up"
for i in $(seq 1 "$N"); do head -c $((MIB * 1048576)) /dev/urandom >"$dir/up/f$i.bin"; done
total=$((N * MIB))
now() { date +%s.%N; }
# each prints the seconds it took
firn_up() {
    local t0 i; t0=$(now)
    for i in $(seq 1 "$N"); do "$S3IO" put "s3://bench/r$1/firn/f$i.bin" "$dir/up/f$i.bin"; done
    python3.11 -c "print($(now)-$t0)"
}
firn_up_files() {
    local t0; t0=$(now)
    "$S3IO" put-many "s3://bench/r$1/firnm" "$JOBS" "$dir"/up/f*.bin
    python3.11 -c "print($(now)-$t0)"
}
aws_up() {
    local t0; t0=$(now)
    aws --endpoint-url "$EP" s3 cp --recursive --quiet "$dir/up" "s3://bench/r$1/aws/"
    python3.11 -c "print($(now)-$t0)"
}
firn_down() {
    local t0 i; t0=$(now)
    for i in $(seq 1 "$N"); do "$S3IO" get "s3://bench/r$1/firn/f$i.bin" "$dir/down-firn/f$i.bin"; done
    python3.11 -c "print($(now)-$t0)"
}
aws_down() {
    local t0; t0=$(now)
    aws --endpoint-url "$EP" s3 cp --recursive --quiet "s3://bench/r$1/aws/" "$dir/down-aws"
    python3.11 -c "print($(now)-$t0)"
}
best() { python3.11 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
uf=() um=() ua=() df=() da=()
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$dir/down-firn" "$dir/down-aws"
    mkdir -p "$dir/down-firn" "$dir/down-aws"
    if [ $((r % 2)) = 1 ]; then
        uf+=("$(firn_up "$r")"); ua+=("$(aws_up "$r")"); um+=("$(firn_up_files "$r")")
        df+=("$(firn_down "$r")"); da+=("$(aws_down "$r")")
    else
        um+=("$(firn_up_files "$r")"); ua+=("$(aws_up "$r")"); uf+=("$(firn_up "$r")")
        da+=("$(aws_down "$r")"); df+=("$(firn_down "$r")")
    fi
    for i in $(seq 1 "$N"); do # put-many's objects are whole too
        "$S3IO" get "s3://bench/r$r/firnm/f$i.bin" "$dir/down-firn/m$i.bin"
        cmp -s "$dir/up/f$i.bin" "$dir/down-firn/m$i.bin" || { echo "firn put-many f$i differs"; exit 1; }
    done
    for i in $(seq 1 "$N"); do
        cmp -s "$dir/up/f$i.bin" "$dir/down-firn/f$i.bin" || { echo "firn download f$i differs"; exit 1; }
        cmp -s "$dir/up/f$i.bin" "$dir/down-aws/f$i.bin" || { echo "aws download f$i differs"; exit 1; }
    done
    echo "round $r: upload firn ${uf[-1]} s, firn $JOBS files at once ${um[-1]} s, aws ${ua[-1]} s; download firn ${df[-1]} s, aws ${da[-1]} s"
    aws --endpoint-url "$EP" s3 rm --recursive --quiet "s3://bench/r$r/" # moto holds it in memory
done
rate() { python3.11 -c "print(f'{$total/$1:.1f}')"; }
up_f=$(rate "$(best "${uf[@]}")"); up_a=$(rate "$(best "${ua[@]}")"); up_m=$(rate "$(best "${um[@]}")")
dn_f=$(rate "$(best "${df[@]}")"); dn_a=$(rate "$(best "${da[@]}")")
echo "bench s3-upload ($N x $MIB MiB, best of $ROUNDS): $up_f MiB/s vs aws-s3-cp $up_a MiB/s = $(python3.11 -c "print(f'{$up_f/$up_a:.2f}')")x"
echo "bench s3-upload-files ($N x $MIB MiB, $JOBS files at once, best of $ROUNDS): $up_m MiB/s vs aws-s3-cp $up_a MiB/s = $(python3.11 -c "print(f'{$up_m/$up_a:.2f}')")x"
echo "bench s3-download ($N x $MIB MiB, best of $ROUNDS): $dn_f MiB/s vs aws-s3-cp $dn_a MiB/s = $(python3.11 -c "print(f'{$dn_f/$dn_a:.2f}')")x"
