#!/usr/bin/env bash
# Apache Spark for the scale-out engine (docs/scale.md): the Delta Lake and PostgreSQL JDBC jars from Maven
# Central, fetched once by pinned coordinates and SHA-256 into an ignored folder (Spark is told about them with
# `spark.jars`, never `spark.jars.packages`, so nothing is downloaded when a job runs), and a standalone
# cluster on loopback started from the PySpark distribution.
#
#   tools/spark/spark.sh fetch           download and check the jars into .spark-jars/ (once)
#   tools/spark/spark.sh cluster-start   a master on 127.0.0.1:$SPARK_MASTER_PORT (7077) and $SPARK_WORKERS (2) workers
#   tools/spark/spark.sh cluster-stop    stop what cluster-start started
#   tools/spark/spark.sh status          exit 0 when the master answers
#
# The cluster's logs, pids and work folders live in $SPARK_STATE (default data/spark/).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JARS=${LEC_SPARK_JARS:-$ROOT/.spark-jars}
# groupId:artifactId:version  sha256 — delta-spark_4.2 is Delta 4.4.0 built for Spark 4.2 (PySpark 4.2.0).
ARTIFACTS=(
    "io.delta:delta-spark_4.2_2.13:4.4.0 27d4fd8b1f879535c573ed1c718177d6a27f24d3e626ba02e216369725721ead"
    "io.delta:delta-storage:4.4.0 c46735481fa8e326b0957be02b4420cbcab4b325bb08009b7f2045a95133f1cc"
    "org.postgresql:postgresql:42.7.14 73914527305a40cce504b0d3d90b23caf565136912d607ae8ae7c5895512332c"
)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
STATE=${SPARK_STATE:-$ROOT/data/spark}
MASTER_PORT=${SPARK_MASTER_PORT:-7077}
MASTER_UI_PORT=${SPARK_MASTER_WEBUI_PORT:-8090}
WORKERS=${SPARK_WORKERS:-2}
WORKER_CORES=${SPARK_WORKER_CORES:-1}
WORKER_MEMORY=${SPARK_WORKER_MEMORY:-4g}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
export SPARK_LOCAL_IP=127.0.0.1

fetch() {
    mkdir -p "$JARS"
    local entry coordinates sha group artifact version file
    for entry in "${ARTIFACTS[@]}"; do
        read -r coordinates sha <<<"$entry"
        IFS=: read -r group artifact version <<<"$coordinates"
        file=$JARS/$artifact-$version.jar
        if [ -f "$file" ] && echo "$sha  $file" | sha256sum -c --quiet - 2>/dev/null; then
            continue
        fi
        echo "Fetching $coordinates from Maven Central"
        mvn -q -B dependency:copy -Dartifact="$coordinates" -DoutputDirectory="$JARS" -Dmdep.useBaseVersion=true
        if ! echo "$sha  $file" | sha256sum -c --quiet -; then
            echo "$file does not have the pinned SHA-256: removed, try again." >&2
            rm -f "$file"
            exit 1
        fi
    done
}

spark_home() {
    "$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'
}

status() {
    curl -sf -o /dev/null "http://127.0.0.1:$MASTER_UI_PORT/json/"
}

wait_for() {  # wait_for WHAT COMMAND...: a readiness poll while the daemons start
    local what=$1
    shift
    for _ in $(seq 120); do
        if "$@"; then
            return 0
        fi
        sleep 0.5
    done
    echo "$what did not come up; see $STATE/*.log" >&2
    exit 1
}

alive_workers() {
    curl -sf "http://127.0.0.1:$MASTER_UI_PORT/json/" | "$PYTHON" -c \
        'import json, sys; print(sum(w["state"] == "ALIVE" for w in json.load(sys.stdin)["workers"]))'
}

workers_ready() {
    [ "$(alive_workers 2>/dev/null || echo 0)" -ge "$WORKERS" ]
}

cluster_start() {
    fetch
    if status; then
        echo "A Spark master already answers on 127.0.0.1:$MASTER_UI_PORT"
        return 0
    fi
    local home
    home=$(spark_home)
    mkdir -p "$STATE"
    export SPARK_HOME=$home
    nohup "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
        --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_UI_PORT" >"$STATE/master.log" 2>&1 &
    echo $! >"$STATE/master.pid"
    wait_for "The Spark master" status
    for i in $(seq "$WORKERS"); do
        mkdir -p "$STATE/worker-$i"
        nohup "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
            --host 127.0.0.1 --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" --webui-port 0 \
            --work-dir "$STATE/worker-$i" "spark://127.0.0.1:$MASTER_PORT" >"$STATE/worker-$i.log" 2>&1 &
        echo $! >"$STATE/worker-$i.pid"
    done
    wait_for "$WORKERS Spark workers" workers_ready
    echo "Spark master spark://127.0.0.1:$MASTER_PORT with $WORKERS workers (UI http://127.0.0.1:$MASTER_UI_PORT; logs in $STATE)"
}

cluster_stop() {
    local pidfile pid
    for pidfile in "$STATE"/worker-*.pid "$STATE"/master.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    done
}

case "${1:-}" in
    fetch) fetch ;;
    cluster-start) cluster_start ;;
    cluster-stop) cluster_stop ;;
    status) status ;;
    *) echo "usage: $0 fetch|cluster-start|cluster-stop|status" >&2; exit 2 ;;
esac
