#!/usr/bin/env bash
# s3.sh - `make bench-s3`: upload and download throughput of FIRN_BENCH_S3_FILES files of
# FIRN_BENCH_S3_MIB MiB (default 8 x 32) through firn's S3 FileIO (build/tools/s3_io, one
# file after the other, multipart parts sent in sequence) against `aws s3 cp --recursive`
# of the same files to the same moto_server (the aws CLI runs up to 10 transfers at once).
# Both sides sign every request with SigV4 and hash every payload. moto keeps objects in
# memory in one Python process: it, not the network, bounds both sides.
set -eu
cd "$(dirname "$0")/.."
BUILDDIR=${BUILDDIR:-build}
S3IO=$BUILDDIR/tools/s3_io
N=${FIRN_BENCH_S3_FILES:-8}
MIB=${FIRN_BENCH_S3_MIB:-32}
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
mkdir -p "$dir/up" "$dir/down-firn" "$dir/down-aws"
for i in $(seq 1 "$N"); do head -c $((MIB * 1048576)) /dev/urandom >"$dir/up/f$i.bin"; done
total=$((N * MIB))
now() { date +%s.%N; }
t0=$(now)
for i in $(seq 1 "$N"); do "$S3IO" put "s3://bench/firn/f$i.bin" "$dir/up/f$i.bin"; done
t1=$(now)
aws --endpoint-url "$EP" s3 cp --recursive --quiet "$dir/up" s3://bench/aws/
t2=$(now)
for i in $(seq 1 "$N"); do "$S3IO" get "s3://bench/firn/f$i.bin" "$dir/down-firn/f$i.bin"; done
t3=$(now)
aws --endpoint-url "$EP" s3 cp --recursive --quiet s3://bench/aws/ "$dir/down-aws"
t4=$(now)
for i in $(seq 1 "$N"); do
    cmp -s "$dir/up/f$i.bin" "$dir/down-firn/f$i.bin" || { echo "firn download f$i differs"; exit 1; }
    cmp -s "$dir/up/f$i.bin" "$dir/down-aws/f$i.bin" || { echo "aws download f$i differs"; exit 1; }
done
up_f=$(python3.11 -c "print(f'{$total/($t1-$t0):.1f}')")
up_a=$(python3.11 -c "print(f'{$total/($t2-$t1):.1f}')")
dn_f=$(python3.11 -c "print(f'{$total/($t3-$t2):.1f}')")
dn_a=$(python3.11 -c "print(f'{$total/($t4-$t3):.1f}')")
echo "bench s3-upload ($N x $MIB MiB): $up_f MiB/s vs aws-s3-cp $up_a MiB/s = $(python3.11 -c "print(f'{$up_f/$up_a:.2f}')")x"
echo "bench s3-download ($N x $MIB MiB): $dn_f MiB/s vs aws-s3-cp $dn_a MiB/s = $(python3.11 -c "print(f'{$dn_f/$dn_a:.2f}')")x"
