#!/usr/bin/env bash
# Keycloak for the demo and the tests, from Maven Central: fetched once by pinned coordinates and SHA-256,
# built once (`kc.sh build`), then started on loopback with the realm imported.
#
#   tools/keycloak/keycloak.sh fetch     download, check, unpack and build into .keycloak/ (once)
#   tools/keycloak/keycloak.sh start     start on 127.0.0.1:$KEYCLOAK_PORT (default 8180), import the realm, wait
#   tools/keycloak/keycloak.sh stop      stop the server started by `start` with the same $KEYCLOAK_STATE
#   tools/keycloak/keycloak.sh status    exit 0 when the server answers its health check
#
# Every instance lives in its own folder, $KEYCLOAK_STATE (default data/keycloak/ for the demo; the tests use
# a temporary one): a Keycloak home whose programs are links to the one built distribution, with its own
# data/ (the H2 database, the realm to import, transaction logs), the log, the pid and the generated bootstrap
# admin password (admin.json, mode 0600). So the demo and any number of test runs never share a database.
# The database is dropped and the realm imported afresh whenever the realm file changed. Placeholders in the
# realm file (`${LEC_SMTP_HOST:127.0.0.1}`) are filled from this environment at import. Nothing secret is in
# the repository. Production settings (hostname, TLS, PostgreSQL) are in docs/identity.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=26.7.3
SHA256=77657f30b7e90d70f727712ce1c967f430fd6a5e9f458d32d8c6df0635345f47
ARTIFACT=org.keycloak:keycloak-quarkus-dist:$VERSION:tar.gz
# Build-time options: the health endpoints, the embedded H2 file database, local caches (no clustering, so
# instances on one machine never try to join each other).
BUILD_OPTIONS="--health-enabled=true --db=dev-file --cache=local"
CACHE=${KEYCLOAK_CACHE:-$ROOT/.keycloak}
DIST=$CACHE/keycloak-$VERSION
PORT=${KEYCLOAK_PORT:-8180}
MANAGEMENT_PORT=${KEYCLOAK_MANAGEMENT_PORT:-$((PORT + 1000))}
STATE=${KEYCLOAK_STATE:-$ROOT/data/keycloak}
HOME_DIR=$STATE/home
REALM_FILE=${KEYCLOAK_REALM_FILE:-$ROOT/dapp/api/realm-lec.json}
WAIT_SECONDS=${KEYCLOAK_WAIT_SECONDS:-300}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}

fetch() {
    if [ "$(cat "$DIST/.built" 2>/dev/null)" = "$BUILD_OPTIONS" ]; then
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
    rm -rf "$DIST"
    tar -xzf "$archive" -C "$CACHE"
    # Build options are fixed here once; `start --optimized` then skips Quarkus' augmentation (≈ 45 s).
    # shellcheck disable=SC2086
    "$DIST/bin/kc.sh" build $BUILD_OPTIONS >"$CACHE/build.log" 2>&1
    echo "$BUILD_OPTIONS" >"$DIST/.built"
    echo "Keycloak $VERSION ready in $DIST"
}

health() {
    curl -sf -o /dev/null "http://127.0.0.1:$MANAGEMENT_PORT/health/ready"
}

# The instance's home: bin/ copied (kc.sh finds its home from its own resolved path), the rest linked.
make_home() {
    mkdir -p "$HOME_DIR/data/import"
    if [ ! -x "$HOME_DIR/bin/kc.sh" ] || [ "$(readlink "$HOME_DIR/lib")" != "$DIST/lib" ]; then
        rm -rf "$HOME_DIR/bin"
        cp -r "$DIST/bin" "$HOME_DIR/bin"
        for part in conf lib providers themes version.txt; do
            ln -sfn "$DIST/$part" "$HOME_DIR/$part"
        done
    fi
}

start() {
    fetch
    if health; then
        echo "Keycloak already answers on 127.0.0.1:$PORT"
        return 0
    fi
    mkdir -p "$STATE"
    make_home
    local data=$HOME_DIR/data
    if [ ! -f "$STATE/admin.json" ]; then
        # A new bootstrap admin password needs a new database (the old one keeps the old admin).
        rm -rf "$data/h2" "$data/realm.sha256"
        local password
        password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
        (umask 077 && printf '{"username": "admin", "password": "%s"}\n' "$password" >"$STATE/admin.json")
    fi
    local realm_hash
    realm_hash=$(sha256sum "$REALM_FILE" | cut -d' ' -f1)
    if [ "$(cat "$data/realm.sha256" 2>/dev/null)" != "$realm_hash" ]; then
        rm -rf "$data/h2"
        cp "$REALM_FILE" "$data/import/$(basename "$REALM_FILE")"
        echo "$realm_hash" >"$data/realm.sha256"
    fi
    local admin_password
    admin_password=$(sed -E 's/.*"password": "([^"]+)".*/\1/' "$STATE/admin.json")
    local started
    started=$(date +%s)
    # The issuer is fixed (--hostname): tokens name http://127.0.0.1:$PORT/realms/lec whichever address a
    # client used, so the API's check of `iss` does not depend on how the browser reached Keycloak.
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=$admin_password \
        nohup "$HOME_DIR/bin/kc.sh" start --optimized \
        --http-enabled=true --http-host=127.0.0.1 --http-port="$PORT" \
        --http-management-port="$MANAGEMENT_PORT" --hostname="http://127.0.0.1:$PORT" \
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
        # The pid is kc.sh's, which forwards SIGTERM to its java child and waits for it: a clean shutdown.
        # Should it hang, both are killed.
        local java
        java=$(pgrep -P "$pid" java || true)
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -9 "$pid" $java 2>/dev/null || true
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
