#!/usr/bin/env bash
# Portico benchmark, one command:  bench/run.sh
#
# Measures, side by side in one run on loopback, with wrk:
#   direct    the sample WAR under Portico's WAR runner in its own JVM (the backend, no proxy)
#   portico   the same WAR hosted out-of-process by Portico (front Tomcat -> child JVM)
#   nginx     nginx (Debian package) as reverse proxy with an upstream keepalive pool -> direct
#   inproc    the same WAR hosted in-process by Portico (reported "not measured" while the
#             front answers 500.30)
#   tomcat    the same WAR deployed directly in the front Tomcat's webapps/ (plain Tomcat)
# each for /info (a small JSON servlet response) and /download?bytes=65536 (64 KiB), plus the
# cold-start overhead of out-of-process apps (Node backend and WAR runner).
#
# Everything runs on 127.0.0.1, is bounded in time, and every process started here is stopped
# on exit. Results: bench/target/results.json, bench/target/results.md, docs/benchmarks-chart.svg.
#
# Knobs (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 5), BENCH_ROUNDS (3),
# BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_TARGETS (direct,portico,nginx,inproc,tomcat),
# BENCH_COLD_REPS (5, 0 = skip cold start), BENCH_FRONT_OPTS (extra JVM options for the front
# Tomcat, e.g. JFR), BENCH_REBUILD=1 (rebuild plugin + sample WAR even if present),
# BENCH_NO_CHART=1 (leave docs/ alone, e.g. for a quick experiment), BENCH_PLUGIN_JAR (another
# build of the plugin jar to measure).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="$BENCH/target"
TOMCAT_VERSION=11.0.24
PLUGIN_JAR="${BENCH_PLUGIN_JAR:-$ROOT/plugin/target/portico-tomcat-0.1.0-SNAPSHOT.jar}"
SAMPLE_WAR="$ROOT/sample-war/target/portico-sample.war"
NODE_SERVER="$ROOT/integration-tests/backends/node/server.js"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------------------------------
# Cleanup: every process this script starts is recorded here and stopped on exit.
PIDS=()
cleanup() {
    local status=$?
    set +e
    for (( i=${#PIDS[@]}-1; i>=0; i-- )); do
        local pid=${PIDS[i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
        fi
    done
    # give Tomcat time to stop its children gracefully, then insist
    for _ in $(seq 1 100); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && { log "killing $pid"; kill -KILL "$pid" 2>/dev/null; }
    done
    # Portico's children (recorded by the valve) in case the front was killed hard
    if [ -f "$OUT/front/work/Portico/localhost/children.txt" ]; then
        while read -r cpid _; do
            [[ "$cpid" =~ ^[0-9]+$ ]] && kill -0 "$cpid" 2>/dev/null && kill -KILL "$cpid" 2>/dev/null
        done < "$OUT/front/work/Portico/localhost/children.txt"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # url timeout_s [header]
    local url=$1 limit=$2 header=${3:-X-Bench: 1}
    local deadline=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if curl -s -o /dev/null -m 2 -H "$header" -w '%{http_code}' "$url" 2>/dev/null | grep -q '^[2345]'; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# ------------------------------------------------------------------------------------------
# 1. Tools: wrk and nginx from Debian's packages, if missing
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    pkgs=()
    for p in "${need[@]}"; do
        if [ "$p" = nginx ]; then
            if apt-cache show nginx-light >/dev/null 2>&1; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
        else
            pkgs+=("$p")
        fi
    done
    apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
command -v python3 >/dev/null || die "python3 is required"
command -v java >/dev/null || die "java (17+) is required"
command -v node >/dev/null || log "node not found: the Node cold-start measurement will be skipped"

# ------------------------------------------------------------------------------------------
# 2. Build what is missing
if [ "${BENCH_REBUILD:-0}" = 1 ] || [ ! -f "$PLUGIN_JAR" ] || [ ! -f "$SAMPLE_WAR" ]; then
    log "building (mvn -B -q install -DskipTests)"
    (cd "$ROOT" && mvn -B -q install -DskipTests)
fi
[ -f "$PLUGIN_JAR" ] || die "missing $PLUGIN_JAR"
[ -f "$SAMPLE_WAR" ] || die "missing $SAMPLE_WAR"

mkdir -p "$OUT"
TOMCAT_TGZ="$HOME/.m2/repository/org/apache/tomcat/tomcat/$TOMCAT_VERSION/tomcat-$TOMCAT_VERSION.tar.gz"
if [ ! -f "$TOMCAT_TGZ" ]; then
    log "fetching the Tomcat $TOMCAT_VERSION distribution (mvn dependency:get)"
    (cd "$ROOT" && mvn -B -q dependency:get -Dartifact="org.apache.tomcat:tomcat:$TOMCAT_VERSION:tar.gz" -Dtransitive=false)
fi
CATALINA_HOME="$OUT/apache-tomcat-$TOMCAT_VERSION"
if [ ! -f "$CATALINA_HOME/lib/catalina.jar" ]; then
    log "unpacking Tomcat into $CATALINA_HOME"
    tar -xzf "$TOMCAT_TGZ" -C "$OUT"
fi
# always the current plugin jar (rebuilt between experiments)
rm -f "$CATALINA_HOME"/lib/portico-tomcat*.jar
cp "$PLUGIN_JAR" "$CATALINA_HOME/lib/portico-tomcat.jar"

# ------------------------------------------------------------------------------------------
# 3. Layout: a fresh CATALINA_BASE for the front, the app directories, the direct backend
FRONT="$OUT/front"
rm -rf "$FRONT" "$OUT/direct-app" "$OUT/nginx" "$OUT/cold"
mkdir -p "$FRONT"/{logs,temp,work,webapps,apps}
cp -r "$CATALINA_HOME/conf" "$FRONT/conf"

unpack_war() { mkdir -p "$1" && (cd "$1" && unzip -q "$SAMPLE_WAR"); }
unpack_war "$OUT/direct-app"                 # the direct backend's copy
unpack_war "$FRONT/webapps/plain"            # plain Tomcat
unpack_war "$FRONT/apps/bench"               # Portico out-of-process
cat > "$FRONT/apps/bench/WEB-INF/portico.xml" <<'EOF'
<portico hostingModel="outOfProcess"/>
EOF
unpack_war "$FRONT/apps/benchin"             # Portico in-process (no portico.xml: the default)

COLD_REPS=${BENCH_COLD_REPS:-5}
for i in $(seq 1 "$COLD_REPS"); do           # cold-start apps: registered at start, never started
    unpack_war "$FRONT/apps/coldwar$i"
    echo '<portico hostingModel="outOfProcess"/>' > "$FRONT/apps/coldwar$i/WEB-INF/portico.xml"
    if command -v node >/dev/null; then
        mkdir -p "$FRONT/apps/coldnode$i"
        cp "$NODE_SERVER" "$FRONT/apps/coldnode$i/server.js"
        echo '<portico hostingModel="outOfProcess" processPath="node" arguments="server.js"/>' \
            > "$FRONT/apps/coldnode$i/portico.xml"
    fi
done

FRONT_PORT=$(free_port)
DIRECT_PORT=$(free_port)
NGINX_PORT=$(free_port)
TOKEN="bench-$(date +%s)-$RANDOM$RANDOM"

# Front server.xml: Tomcat's defaults (HTTP/1.1 NIO connector, maxThreads 200), loopback only,
# no shutdown port, no access log (nginx's is off too), Portico's valve on the Host.
cat > "$FRONT/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener"/>
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener"/>
  <Service name="Catalina">
    <Connector port="$FRONT_PORT" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false">
        <Valve className="dev.portico.PorticoValve" appBase="apps"/>
      </Host>
    </Engine>
  </Service>
</Server>
EOF

# ------------------------------------------------------------------------------------------
# 4. Start: direct backend, front Tomcat, nginx
log "starting the direct backend (WAR runner) on 127.0.0.1:$DIRECT_PORT"
RUNNER_CP="$CATALINA_HOME/lib/*:$CATALINA_HOME/bin/tomcat-juli.jar:$CATALINA_HOME/lib/portico-tomcat.jar"
( cd "$OUT/direct-app" && exec env PORTICO_PORT="$DIRECT_PORT" PORTICO_TOKEN="$TOKEN" PORTICO_PATH_BASE=/bench PORTICO_HOSTING_MODEL=outOfProcess \
    PORTICO_WORK_DIR="$OUT/direct-work" \
    java -cp "$RUNNER_CP" dev.portico.integration.runner.WarRunner "$OUT/direct-app" \
    > "$OUT/direct.log" 2>&1 < /dev/null ) &
PIDS+=($!)
DIRECT_PID=$!

log "starting the front Tomcat on 127.0.0.1:$FRONT_PORT"
( export CATALINA_HOME CATALINA_BASE="$FRONT" CATALINA_PID="" \
         CATALINA_OPTS="${BENCH_FRONT_OPTS:-}"
  exec "$CATALINA_HOME/bin/catalina.sh" run > "$FRONT/logs/console.log" 2>&1 < /dev/null ) &
PIDS+=($!)
FRONT_PID=$!

mkdir -p "$OUT/nginx/logs" "$OUT/nginx/tmp"
cat > "$OUT/nginx/nginx.conf" <<EOF
# written by bench/run.sh: a reverse proxy with an upstream keepalive pool, as one would run it
user root;
worker_processes auto;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $OUT/nginx/tmp/client;
    proxy_temp_path $OUT/nginx/tmp/proxy;
    fastcgi_temp_path $OUT/nginx/tmp/fastcgi;
    uwsgi_temp_path $OUT/nginx/tmp/uwsgi;
    scgi_temp_path $OUT/nginx/tmp/scgi;
    keepalive_requests 10000;
    upstream backend {
        server 127.0.0.1:$DIRECT_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Portico-Token "$TOKEN";
        }
    }
}
EOF
log "starting nginx on 127.0.0.1:$NGINX_PORT"
nginx -t -q -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/logs/error.log" \
    || die "nginx config test failed"
nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/logs/error.log" -g 'daemon off;' \
    > "$OUT/nginx/logs/console.log" 2>&1 < /dev/null &
PIDS+=($!)
NGINX_PID=$!

wait_http "http://127.0.0.1:$DIRECT_PORT/bench/info" 90 "X-Portico-Token: $TOKEN" \
    || { tail -30 "$OUT/direct.log" >&2; die "direct backend did not start"; }
wait_http "http://127.0.0.1:$FRONT_PORT/plain/info" 90 \
    || { tail -30 "$FRONT/logs/console.log" >&2; die "front Tomcat did not start"; }
wait_http "http://127.0.0.1:$NGINX_PORT/bench/info" 30 || die "nginx did not start"
# the out-of-process app starts lazily: its first request starts the child JVM
wait_http "http://127.0.0.1:$FRONT_PORT/bench/info" 120 \
    || { tail -30 "$FRONT/logs/console.log" >&2; die "Portico out-of-process app did not answer"; }

cat > "$OUT/pids.env" <<EOF
FRONT_PID=$FRONT_PID
DIRECT_PID=$DIRECT_PID
NGINX_PID=$NGINX_PID
FRONT_PORT=$FRONT_PORT
DIRECT_PORT=$DIRECT_PORT
NGINX_PORT=$NGINX_PORT
EOF

# ------------------------------------------------------------------------------------------
# 5. Measure and report (bench/bench.py: wrk rounds, cold start, results.json/.md, SVG)
export BENCH_OUT="$OUT" BENCH_ROOT="$ROOT" BENCH_TOKEN="$TOKEN" FRONT_PORT DIRECT_PORT NGINX_PORT \
       CATALINA_HOME RUNNER_CP NODE_SERVER BENCH_COLD_REPS="$COLD_REPS" SAMPLE_WAR
python3 "$BENCH/bench.py"
log "done: $OUT/results.md"
