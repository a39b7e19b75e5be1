# pg_server.sh - start a private PostgreSQL for a test: source it, call
# pg_start (exports FIRN_PG_URI, PG_PORT, PG_DIR, PG_ADMIN), pg_restart, pg_stop
# (also run on exit). Uses the newest /usr/lib/postgresql/*/bin (Debian's
# postgresql-15 package). initdb and postgres refuse to run as root, so as root
# they run as the unprivileged user nobody. TCP asks for a password
# (scram-sha-256, user firn); the Unix socket in PG_DIR is trusted (admin).
# fsync is off unless PG_FSYNC=on (tests need no durability; benchmarks do).
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_PASSWORD=firn-secret

_pg_as() { # run a server binary as the server's user
    if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

pg_start() {
    [ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql-15)"; return 1; }
    PG_DIR=$(mktemp -d /tmp/firn-pg.XXXXXX) || return 1
    chmod 755 "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown nobody: "$PG_DIR"
    printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pw"
    [ "$(id -u)" -eq 0 ] && chown nobody: "$PG_DIR/pw"
    _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U firn --pwfile="$PG_DIR/pw" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C --no-sync \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log"; return 1; }
    PG_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    _pg_ctl_start || return 1
    PG_ADMIN="host=$PG_DIR port=$PG_PORT user=firn"
    "$PG_BIN/psql" -qAt "$PG_ADMIN dbname=postgres" -c "CREATE DATABASE firn_test" >/dev/null || return 1
    export FIRN_PG_URI="postgresql://firn:$PG_PASSWORD@127.0.0.1:$PG_PORT/firn_test"
    export PG_PORT PG_DIR PG_ADMIN
    trap pg_stop EXIT
}

_pg_ctl_start() {
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=60" \
        start >/dev/null || { tail -n 20 "$PG_DIR/server.log"; return 1; }
}

# pg_restart [DOWN_SECONDS]: stop the server, wait, start it again.
pg_restart() {
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || return 1
    sleep "${1:-0}"
    _pg_ctl_start
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] || return 0
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$PG_DIR"
    PG_DIR=
}
