#!/usr/bin/env bash
# parquet_large.long.sh - `make test-long` only: the sizes issue 3 names, checked
# by independent readers. 2 million event rows written by firn hold exactly the
# rows DuckDB writes from the same formulas; firn reads DuckDB's file back in
# full; a 256 MiB file of 100 KiB media values is read by DuckDB byte for byte.
source "$(dirname "$0")/lib.sh"
B=$PWD/$FIRN_BUILD/bench/bench_parquet
ROWS=2000000

check "firn writes $ROWS event rows" "$B" write-events $ROWS "$WORK/firn.parquet"
check "duckdb writes the same $ROWS rows" node bench/duckdb_parquet.mjs write-events $ROWS "$WORK/duckdb.parquet"
check "duckdb finds the same rows in both files" node bench/duckdb_parquet.mjs check-same "$WORK/firn.parquet" "$WORK/duckdb.parquet"
read_all() { # file: firn reads every column of every row group; rows must be ROWS
    local out; out=$("$B" read-events "$1") || return 1
    grep -q "^rows=$ROWS " <<<"$out" || { echo "got: $out"; return 1; }
}
check "firn reads every column of duckdb's file" read_all "$WORK/duckdb.parquet"
check "firn reads every column of its own file" read_all "$WORK/firn.parquet"

media_check() {
    "$B" write-media $((256 * 1024 * 1024)) "$WORK/media.parquet" >/dev/null || return 1
    node --input-type=module -e "
      import { DuckDBInstance } from '$INTEROP/node_modules/@duckdb/node-api/lib/index.js';
      const con = await (await DuckDBInstance.create(':memory:')).connect();
      const r = (await con.runAndReadAll(\"SELECT count(*)::BIGINT n, sum(octet_length(image))::BIGINT b, count(DISTINCT md5(image))::BIGINT d FROM read_parquet('$WORK/media.parquet')\")).getRowObjectsJS()[0];
      console.log(r);
      // 2621 values of 100 KiB cycling over a pool of 64 distinct blobs
      if (r.n !== 2621n || r.b !== 2621n * 102400n || r.d !== 64n) process.exit(1);"
}
check "duckdb reads 256 MiB of media values byte for byte" media_check
finish
