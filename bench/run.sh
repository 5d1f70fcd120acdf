#!/usr/bin/env bash
# Portico benchmark, one command:  bench/run.sh
#
# Two backends, each measured through several fronts, side by side in one run on loopback, wrk:
#
# The cheapest backend: nginx answering 23 bytes (bench/nginx-backend.sh), so the front's cost dominates
#   direct        the nginx backend itself (no front)
#   nginx         nginx reverse proxy (1 worker, upstream keepalive) -> that backend
#   portico       front Tomcat (distribution) -> Portico out-of-process -> the same script, started
#                 and supervised by Portico (apps/hello)
#   floor         the same front Tomcat answering the same 23 bytes itself (webapps/floor, no forwarding)
#   portico-unix  as portico over a Unix domain socket (transport="unix"), when the plugin has it
# The sample WAR under Portico's WAR runner (/info, a small JSON servlet answer, and 64 KiB)
#   war-direct    the WAR runner in its own JVM (no front)
#   war-portico   front Tomcat -> Portico out-of-process -> the WAR in a child JVM
#   war-nginx     the nginx reverse proxy -> war-direct
#   war-inproc    the WAR hosted in-process by Portico ("not measured" while it answers 500.30)
#   war-tomcat    the WAR deployed in the front Tomcat's webapps/ (plain Tomcat)
# For each: req/s, ratio to direct, p50/p99, and the front process's CPU time, context switches
# and (strace, in separate untimed runs) syscalls per request; plus cold start (backend alone vs
# through Portico, with and without readinessPath).
#
# Everything runs on 127.0.0.1, is bounded in time, and every process started here is stopped
# on exit. Results: bench/target/results.json, bench/target/results.md, docs/benchmarks-chart.svg.
#
# Knobs (environment): BENCH_DURATION (s per timed run, 10), BENCH_WARMUP (s, 5), BENCH_ROUNDS (3),
# BENCH_CONNECTIONS (32), BENCH_THREADS (wrk threads, 1), BENCH_TARGETS (all of the above,
# comma-separated), BENCH_COLD_REPS (5, 0 = skip cold start), BENCH_STRACE_SECONDS (3, 0 = no
# syscall counts), BENCH_FRONT_OPTS (extra JVM options for the front Tomcat, e.g. JFR),
# BENCH_REBUILD=1 (rebuild plugin + sample WAR even if present), BENCH_NO_CHART=1 (leave docs/
# alone), BENCH_PLUGIN_JAR (another build of the plugin jar to measure), BENCH_MAVEN_REPO (the
# local Maven repository to build with and take Tomcat from; default ~/.m2/repository).
# Quick mode while optimising:
#   BENCH_TARGETS=floor,portico,nginx BENCH_ROUNDS=1 BENCH_DURATION=5 BENCH_COLD_REPS=0 \
#   BENCH_NO_CHART=1 bench/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="$BENCH/target"
TOMCAT_VERSION=11.0.24
PLUGIN_JAR="${BENCH_PLUGIN_JAR:-$ROOT/plugin/target/portico-tomcat-0.1.0-SNAPSHOT.jar}"
SAMPLE_WAR="$ROOT/sample-war/target/portico-sample.war"
NODE_SERVER="$ROOT/integration-tests/backends/node/server.js"
NGINX_BACKEND="$BENCH/nginx-backend.sh"
MVN_REPO="${BENCH_MAVEN_REPO:-$HOME/.m2/repository}"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------------------------------
# Cleanup: every process this script starts is recorded here and stopped on exit.
PIDS=()
descendants() { # pid...: the processes below them, deepest last
    local pid child
    for pid in "$@"; do
        for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
            echo "$child"
            descendants "$child"
        done
    done
}
cleanup() {
    local status=$?
    set +e
    # everything below the recorded processes too (nginx workers, Portico's children, wrk, strace),
    # noted before the first signal: a process whose parent is killed is re-parented and lost
    local tree=("${PIDS[@]}")
    tree+=($(descendants "${PIDS[@]}"))
    for (( i=${#PIDS[@]}-1; i>=0; i-- )); do
        local pid=${PIDS[i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
        fi
    done
    # give Tomcat time to stop its children gracefully (Portico drains each for up to its
    # shutdownTimeLimit, 10 s, then signals it), then insist
    for _ in $(seq 1 250); do
        local alive=0
        for pid in "${tree[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${tree[@]}"; do
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
[ "${BENCH_STRACE_SECONDS:-3}" = 0 ] || command -v strace >/dev/null || need+=(strace)
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
command -v javac >/dev/null || die "javac (17+) is required (the floor servlet is compiled here)"
command -v node >/dev/null || log "node not found: the Node cold-start measurement will be skipped"

# ------------------------------------------------------------------------------------------
# 2. Build what is missing
if [ "${BENCH_REBUILD:-0}" = 1 ] || [ ! -f "$PLUGIN_JAR" ] || [ ! -f "$SAMPLE_WAR" ]; then
    log "building (mvn -B -q install -DskipTests -Dmaven.repo.local=$MVN_REPO)"
    (cd "$ROOT" && mvn -B -q install -DskipTests -Dmaven.repo.local="$MVN_REPO")
fi
[ -f "$PLUGIN_JAR" ] || die "missing $PLUGIN_JAR"
[ -f "$SAMPLE_WAR" ] || die "missing $SAMPLE_WAR"

mkdir -p "$OUT"
TOMCAT_TGZ="$MVN_REPO/org/apache/tomcat/tomcat/$TOMCAT_VERSION/tomcat-$TOMCAT_VERSION.tar.gz"
if [ ! -f "$TOMCAT_TGZ" ]; then
    log "fetching the Tomcat $TOMCAT_VERSION distribution (mvn dependency:get)"
    (cd "$ROOT" && mvn -B -q dependency:get -Dmaven.repo.local="$MVN_REPO" \
        -Dartifact="org.apache.tomcat:tomcat:$TOMCAT_VERSION:tar.gz" -Dtransitive=false)
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
# 3. Layout: a fresh CATALINA_BASE for the front, the app directories, the direct backends
FRONT="$OUT/front"
rm -rf "$FRONT" "$OUT/direct-app" "$OUT/nginx" "$OUT/cold" "$OUT/hello-direct" "$OUT/strace"
mkdir -p "$FRONT"/{logs,temp,work,webapps,apps,run}
cp -r "$CATALINA_HOME/conf" "$FRONT/conf"
NGINX_VERSION=$(nginx -v 2>&1 | sed 's/^nginx version: //')

# The nginx backend under Portico (TCP, and a Unix domain socket where the plugin has transport)
hello_app() { # name [extra portico attributes]
    mkdir -p "$FRONT/apps/$1"
    cat > "$FRONT/apps/$1/portico.xml" <<EOF
<portico hostingModel="outOfProcess" processPath="$NGINX_BACKEND" $2>
  <environmentVariables>
    <environmentVariable name="BENCH_NGINX_RUN" value="$FRONT/run/$1"/>
  </environmentVariables>
</portico>
EOF
}
hello_app hello ''
hello_app hellounix 'transport="unix"'

# The floor: the front Tomcat answering the same 23 bytes itself, with the headers Portico's
# forwarded answer carries (nginx's Server among them)
mkdir -p "$FRONT/webapps/floor/WEB-INF/classes"
javac --release 17 -nowarn -cp "$CATALINA_HOME/lib/servlet-api.jar" \
    -d "$FRONT/webapps/floor/WEB-INF/classes" "$BENCH/floor/FloorServlet.java"
cat > "$FRONT/webapps/floor/WEB-INF/web.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0" metadata-complete="true">
  <servlet>
    <servlet-name>floor</servlet-name>
    <servlet-class>FloorServlet</servlet-class>
    <init-param><param-name>server</param-name><param-value>$NGINX_VERSION</param-value></init-param>
  </servlet>
  <servlet-mapping><servlet-name>floor</servlet-name><url-pattern>/*</url-pattern></servlet-mapping>
</web-app>
EOF

unpack_war() { mkdir -p "$1" && (cd "$1" && unzip -q "$SAMPLE_WAR"); }
unpack_war "$OUT/direct-app"                 # the direct backend's copy
unpack_war "$FRONT/webapps/plain"            # plain Tomcat
unpack_war "$FRONT/apps/bench"               # Portico out-of-process
cat > "$FRONT/apps/bench/WEB-INF/portico.xml" <<'EOF'
<portico hostingModel="outOfProcess"/>
EOF
unpack_war "$FRONT/apps/benchin"             # Portico in-process (no portico.xml: the default)

# Cold-start apps: registered at start, never started before their measured first request
COLD_REPS=${BENCH_COLD_REPS:-5}
for i in $(seq 1 "$COLD_REPS"); do
    unpack_war "$FRONT/apps/coldwar$i"
    echo '<portico hostingModel="outOfProcess"/>' > "$FRONT/apps/coldwar$i/WEB-INF/portico.xml"
    hello_app "coldnginxprobe$i" 'readinessPath="/healthz"'
    if command -v node >/dev/null; then
        for kind in node nodeprobe; do
            mkdir -p "$FRONT/apps/cold$kind$i"
            cp "$NODE_SERVER" "$FRONT/apps/cold$kind$i/server.js"
        done
        echo '<portico hostingModel="outOfProcess" processPath="node" arguments="server.js"/>' \
            > "$FRONT/apps/coldnode$i/portico.xml"
        echo '<portico hostingModel="outOfProcess" processPath="node" arguments="server.js" readinessPath="/healthz"/>' \
            > "$FRONT/apps/coldnodeprobe$i/portico.xml"
    fi
done

FRONT_PORT=$(free_port)
DIRECT_PORT=$(free_port)
NGINX_PORT=$(free_port)
HELLO_PORT=$(free_port)
TOKEN="bench-$(date +%s)-$RANDOM$RANDOM"

# Front server.xml: Tomcat's defaults (HTTP/1.1 NIO connector, maxThreads 200), loopback only,
# no shutdown port, no access log (nginx's is off too), Portico's valve on the Host (its status
# page tells bench.py, after the load, whether any request is still counted in flight).
cat > "$FRONT/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener"/>
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener"/>
  <Service name="Catalina">
    <Connector port="$FRONT_PORT" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false">
        <Valve className="dev.portico.PorticoValve" appBase="apps" statusPath="/portico-status"/>
      </Host>
    </Engine>
  </Service>
</Server>
EOF

# ------------------------------------------------------------------------------------------
# 4. Start: the direct backends (nginx answering 23 bytes, WAR runner), front Tomcat, nginx proxy
log "starting the direct nginx backend on 127.0.0.1:$HELLO_PORT"
env PORTICO_PORT="$HELLO_PORT" PORTICO_TOKEN="$TOKEN" PORTICO_PATH_BASE=/hello BENCH_NGINX_RUN="$OUT/hello-direct" \
    "$NGINX_BACKEND" > "$OUT/hello-direct.log" 2>&1 < /dev/null &
PIDS+=($!)
HELLO_PID=$!

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
# written by bench/run.sh: a reverse proxy with an upstream keepalive pool, as one would run it:
# one worker (the issue's method), 100 requests per client connection as the front Tomcat's
# connector (its default maxKeepAliveRequests), so both fronts reconnect equally often
user root;
worker_processes 1;
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
    keepalive_requests 100;
    upstream hello {
        server 127.0.0.1:$HELLO_PORT;
        keepalive 64;
    }
    upstream war {
        server 127.0.0.1:$DIRECT_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$remote_addr;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_set_header X-Portico-Token "$TOKEN";
        location /hello/ {
            proxy_pass http://hello;
        }
        location / {
            proxy_pass http://war;
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
wait_http "http://127.0.0.1:$HELLO_PORT/hello/" 30 "X-Portico-Token: $TOKEN" \
    || { cat "$OUT/hello-direct.log" "$OUT"/hello-direct/*/error.log >&2; die "the nginx backend did not start"; }
wait_http "http://127.0.0.1:$NGINX_PORT/bench/info" 30 || die "nginx did not start"
wait_http "http://127.0.0.1:$NGINX_PORT/hello/" 30 || die "nginx did not start"
# the out-of-process apps start lazily: the first request starts the child (bench.py checks each
# answer and reports a front that does not answer 200, portico-unix without transport="unix" say)
wait_http "http://127.0.0.1:$FRONT_PORT/bench/info" 120 \
    || { tail -30 "$FRONT/logs/console.log" >&2; die "Portico out-of-process app did not answer"; }
wait_http "http://127.0.0.1:$FRONT_PORT/hello/" 30 \
    || { tail -30 "$FRONT/logs/console.log" >&2; die "Portico out-of-process app (nginx backend) did not answer"; }
wait_http "http://127.0.0.1:$FRONT_PORT/hellounix/" 30 || true

cat > "$OUT/pids.env" <<EOF
FRONT_PID=$FRONT_PID
DIRECT_PID=$DIRECT_PID
NGINX_PID=$NGINX_PID
HELLO_PID=$HELLO_PID
HELLO_PORT=$HELLO_PORT
FRONT_PORT=$FRONT_PORT
DIRECT_PORT=$DIRECT_PORT
NGINX_PORT=$NGINX_PORT
EOF

# ------------------------------------------------------------------------------------------
# 5. Measure and report (bench/bench.py: wrk rounds, cold start, results.json/.md, SVG)
export BENCH_OUT="$OUT" BENCH_ROOT="$ROOT" BENCH_TOKEN="$TOKEN" FRONT_PORT DIRECT_PORT NGINX_PORT \
       HELLO_PORT FRONT_PID DIRECT_PID NGINX_PID HELLO_PID NGINX_BACKEND \
       CATALINA_HOME RUNNER_CP NODE_SERVER BENCH_COLD_REPS="$COLD_REPS" SAMPLE_WAR
# in the background, so that the cleanup trap sees it and what it starts (wrk, strace, backends)
python3 "$BENCH/bench.py" < /dev/null &
PIDS+=($!)
wait $!
log "done: $OUT/results.md"
if [ "${BENCH_SCALE:-0}" = 1 ]; then "$BENCH/scale.sh"; fi  # cost with 1, 100, 1,000 apps and idle WebSocket tunnels (bench/scale.sh)
