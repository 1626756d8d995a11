#!/usr/bin/env bash
# Keycloak for the demo and the tests, from Maven Central: fetched once by pinned coordinates and SHA-256,
# built once (`kc.sh build`), then started on loopback with the realm imported.
#
#   tools/keycloak/keycloak.sh fetch     download, check, unpack and build into .keycloak/ (once)
#   tools/keycloak/keycloak.sh start     start on 127.0.0.1:$KEYCLOAK_PORT (default 8180), import the realm, wait
#   tools/keycloak/keycloak.sh stop      stop the server started by `start`
#   tools/keycloak/keycloak.sh status    exit 0 when the server answers its health check
#
# Keycloak's H2 file database is under the ignored .keycloak/ folder; it is dropped and the realm imported
# afresh whenever the realm file changed. The log, the pid and the generated bootstrap admin password live in
# $KEYCLOAK_STATE (default data/keycloak/); nothing secret is in the repository. Production settings
# (hostname, TLS, PostgreSQL) are in docs/identity.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=26.7.3
SHA256=77657f30b7e90d70f727712ce1c967f430fd6a5e9f458d32d8c6df0635345f47
ARTIFACT=org.keycloak:keycloak-quarkus-dist:$VERSION:tar.gz
CACHE=${KEYCLOAK_CACHE:-$ROOT/.keycloak}
KC_HOME=$CACHE/keycloak-$VERSION
PORT=${KEYCLOAK_PORT:-8180}
MANAGEMENT_PORT=${KEYCLOAK_MANAGEMENT_PORT:-$((PORT + 1000))}
STATE=${KEYCLOAK_STATE:-$ROOT/data/keycloak}
REALM_FILE=${KEYCLOAK_REALM_FILE:-$ROOT/dapp/api/realm-lec.json}
WAIT_SECONDS=${KEYCLOAK_WAIT_SECONDS:-300}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}

fetch() {
    if [ -f "$KC_HOME/.built" ]; then
        return 0
    fi
    mkdir -p "$CACHE"
    local archive=$CACHE/keycloak-quarkus-dist-$VERSION.tar.gz
    if [ ! -f "$archive" ]; then
        echo "Fetching $ARTIFACT from Maven Central"
        mvn -q -B dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$CACHE" -Dmdep.useBaseVersion=true
    fi
    if ! echo "$SHA256  $archive" | sha256sum -c --quiet -; then
        echo "The Keycloak archive does not have the pinned SHA-256: removed, try again." >&2
        rm -f "$archive"
        exit 1
    fi
    rm -rf "$KC_HOME"
    tar -xzf "$archive" -C "$CACHE"
    # Build options are fixed here once; `start --optimized` then skips Quarkus' augmentation (≈ 45 s).
    "$KC_HOME/bin/kc.sh" build --health-enabled=true --db=dev-file >"$CACHE/build.log" 2>&1
    touch "$KC_HOME/.built"
    echo "Keycloak $VERSION ready in $KC_HOME"
}

health() {
    curl -sf -o /dev/null "http://127.0.0.1:$MANAGEMENT_PORT/health/ready"
}

start() {
    fetch
    if health; then
        echo "Keycloak already answers on 127.0.0.1:$PORT"
        return 0
    fi
    mkdir -p "$STATE" "$KC_HOME/data/import"
    if [ ! -f "$STATE/admin.json" ]; then
        # A new bootstrap admin password needs a new database (the old one keeps the old admin).
        rm -rf "$KC_HOME/data/h2" "$KC_HOME/data/realm.sha256"
        local password
        password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
        (umask 077 && printf '{"username": "admin", "password": "%s"}\n' "$password" >"$STATE/admin.json")
    fi
    local realm_hash
    realm_hash=$(sha256sum "$REALM_FILE" | cut -d' ' -f1)
    if [ "$(cat "$KC_HOME/data/realm.sha256" 2>/dev/null)" != "$realm_hash" ]; then
        rm -rf "$KC_HOME/data/h2"
        cp "$REALM_FILE" "$KC_HOME/data/import/realm-lec.json"
        echo "$realm_hash" >"$KC_HOME/data/realm.sha256"
    fi
    local admin_password
    admin_password=$(sed -E 's/.*"password": "([^"]+)".*/\1/' "$STATE/admin.json")
    local started
    started=$(date +%s)
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=$admin_password \
        nohup "$KC_HOME/bin/kc.sh" start --optimized \
        --http-enabled=true --http-host=127.0.0.1 --http-port="$PORT" \
        --http-management-port="$MANAGEMENT_PORT" --hostname-strict=false \
        --import-realm \
        >"$STATE/keycloak.log" 2>&1 &
    echo $! >"$STATE/pid"
    for _ in $(seq "$WAIT_SECONDS"); do
        if health; then
            echo "Keycloak $VERSION on http://127.0.0.1:$PORT (ready in $(($(date +%s) - started)) s; admin password in $STATE/admin.json)"
            return 0
        fi
        if ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
            echo "Keycloak stopped while starting:" >&2
            tail -20 "$STATE/keycloak.log" >&2
            exit 1
        fi
        sleep 1
    done
    echo "Keycloak did not answer within $WAIT_SECONDS s:" >&2
    tail -20 "$STATE/keycloak.log" >&2
    exit 1
}

stop() {
    if [ -f "$STATE/pid" ]; then
        local pid
        pid=$(cat "$STATE/pid")
        # kc.sh execs java: the pid is the server's; wait for a clean shutdown, then make sure.
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$STATE/pid"
    fi
}

case "${1:-}" in
    fetch) fetch ;;
    start) start ;;
    stop) stop ;;
    status) health ;;
    *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
