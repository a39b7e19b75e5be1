#!/usr/bin/env bash
# deploy.test.sh - deploy/: the runtime package list against `ldd build/firn`, the Dockerfile
# against that list and the Makefile, the image's health check against a real HTTP server,
# `firn --version` / `firn config`, and every kustomization rendered with `kubectl kustomize`
# and checked by deploy/check.py (which must also catch each break of its --self-test).
# The Debian 12 root built with mmdebstrap from the same list is deploy_root.long.sh.
source "$(dirname "$0")/lib.sh"
D=deploy
IMAGE=ghcr.io/firn-project/firn:$("$FIRN" --version | awk '{print $2}')

# the library lines of runtime-packages.txt (data: lines are not libraries)
list_libs() { sed -e '/# *data:/d' -e 's/#.*//' "$D/runtime-packages.txt" | awk 'NF {print $1}' | sort -u; }
check "runtime-packages.txt lists exactly the packages owning ldd build/firn's libraries" \
    diff <(list_libs) <("$D/ldd-packages.sh" "$FIRN")
# a binary whose library is gone: the mapping must fail, not drop it
unresolved() {
    echo 'int firn_fake(void) { return 1; }' > "$WORK/fake.c"
    echo 'int firn_fake(void); int main(void) { return firn_fake(); }' > "$WORK/main.c"
    cc -shared -fPIC -o "$WORK/libfirnfake.so" "$WORK/fake.c" &&
    cc -o "$WORK/needs" "$WORK/main.c" -L"$WORK" -lfirnfake && rm "$WORK/libfirnfake.so" &&
    ! "$D/ldd-packages.sh" "$WORK/needs" 2>"$WORK/err" && grep -q 'libfirnfake.so => not found' "$WORK/err"
}
check "ldd-packages.sh fails on a library that does not resolve" unresolved
check "the Dockerfile's runtime stage installs runtime-packages.txt, nothing else" bash -c "
    grep -q '^FROM debian:12-slim AS runtime' $D/Dockerfile &&
    grep -q '^COPY deploy/runtime-packages.txt /tmp/runtime-packages.txt' $D/Dockerfile &&
    grep -q 'apt-get install -y --no-install-recommends \$(sed -e .s/#.\*//. /tmp/runtime-packages.txt)' $D/Dockerfile &&
    [ \$(sed -n '/AS runtime/,\$p' $D/Dockerfile | grep -c 'apt-get install') = 1 ]"
check "the Dockerfile runs as a non-root user, one binary, health check on /healthz" bash -c "
    sed -n '/AS runtime/,\$p' $D/Dockerfile > $WORK/rt &&
    grep -q '^USER 10001:10001' $WORK/rt && grep -q 'useradd --system --uid 10001' $WORK/rt &&
    [ \$(grep -c '^COPY --from=build' $WORK/rt) = 1 ] &&
    grep -q '^COPY --from=build /src/build/firn /usr/local/bin/firn' $WORK/rt &&
    grep -A1 '^HEALTHCHECK' $WORK/rt | grep -q 'firn-healthcheck.*/healthz' &&
    grep -q '^ENTRYPOINT \[\"/usr/local/bin/firn\"\]' $WORK/rt && grep -q '^CMD \[\"serve\"' $WORK/rt"
# every pkg-config module the Makefile links must come from a -dev package the builder installs
builder_ok() {
    local pkgs mods m pc owner
    pkgs=$(sed -n '/^FROM debian:12 AS build/,/^WORKDIR/p' "$D/Dockerfile" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$')
    mods=$(sed -n 's/^PKGS *:= *//p; /^PKGS/,/^[A-Z_]* *:=/{/^ /p}' Makefile | tr ' \\' '\n\n' | grep -v '^$')
    for m in $mods; do
        pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc
        owner=$(dpkg -S "$pc" | cut -d: -f1)
        grep -qx "$owner" <<<"$pkgs" || { echo "pkg-config $m ($owner) not installed by the build stage"; return 1; }
    done
    owner=$(dpkg -S "$(readlink -f /usr/lib/x86_64-linux-gnu/libsnappy.so)" | cut -d: -f1)
    [ "$owner" = libsnappy1v5 ] && grep -qx libsnappy-dev <<<"$pkgs"
}
check "the build stage installs the -dev package of every library the Makefile links" builder_ok

# the health check script against a real HTTP server: 200 -> 0, 503 -> 1, nothing -> 1
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$PY - "$port" >/dev/null 2>&1 <<'PY' &
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 503); self.end_headers(); self.wfile.write(b"x")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
srv=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
check "firn-healthcheck: 200 on /healthz is healthy" "$D/healthcheck.sh" "http://127.0.0.1:$port/healthz"
check "firn-healthcheck: 503 is unhealthy" bash -c "! $D/healthcheck.sh http://127.0.0.1:$port/readyz 2>/dev/null"
kill "$srv"; wait "$srv" 2>/dev/null
check "firn-healthcheck: no server is unhealthy" bash -c "! $D/healthcheck.sh http://127.0.0.1:$port/healthz 2>/dev/null"

check "firn --version" bash -c "$FIRN --version | grep -Eqx 'firn [0-9]+\.[0-9]+\.[0-9]+'"
printf 'limits:\n  max-event-bytes: 8MiB\nkafka.security.protocol: SSL\n' > "$WORK/good.yaml"
printf 'pipeline:\n  comit-interval: 1s\n' > "$WORK/bad.yaml"
check "firn config check accepts known keys" "$FIRN" config check "$WORK/good.yaml"
check "firn config check names an unknown key with its line" bash -c \
    "! $FIRN config check $WORK/bad.yaml 2>$WORK/err && grep -q \"bad.yaml:2: unknown key 'pipeline.comit-interval'\" $WORK/err"
check "firn config get: sizes in bytes, passthrough kafka keys" bash -c \
    "[ \$($FIRN config get limits.max-event-bytes --config $WORK/good.yaml) = 8388608 ] &&
     [ \$($FIRN config get kafka.security.protocol --config $WORK/good.yaml) = SSL ] &&
     [ \$($FIRN config get stream.partitions --config $WORK/good.yaml --set stream.partitions=6) = 6 ]"
check "firn config keys is the key table of docs/configuration.md" bash -c \
    "diff <($FIRN config keys | sort) <(grep -oE '^[|] \`([a-z-]+[.][a-z.-]+|warehouse)\`' docs/configuration.md | tr -d '|\` ' | sort)"

CHECK=("$PY" "$D/check.py" --firn "$FIRN" --image "$IMAGE")
for o in base overlays/local overlays/production overlays/bi; do
    n=$(basename "$o")
    check "kubectl kustomize deploy/k8s/$o renders" bash -c "kubectl kustomize $D/k8s/$o > $WORK/$n.yaml"
done
check "base: image, probes, resources, selectors, firn.yaml, secrets" "${CHECK[@]}" --expect base "$WORK/base.yaml"
check "local: one firn run pod, spool, catalog and warehouse on the PVC" "${CHECK[@]}" --expect local "$WORK/local.yaml"
check "production: Strimzi KRaft, topics sized for events, PostgreSQL, S3, placement, ArgoCD" \
    "${CHECK[@]}" --expect production --argocd "$D/argocd" --root . "$WORK/production.yaml"
check "bi: Trino on firn serve's REST catalog, Superset dashboard export" \
    "${CHECK[@]}" --expect bi --with "$WORK/production.yaml" "$WORK/bi.yaml"
check "check.py catches each break of the production and local renders" \
    "${CHECK[@]}" --self-test "$WORK/production.yaml" "$WORK/local.yaml"
finish
