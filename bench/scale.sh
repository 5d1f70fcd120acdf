#!/usr/bin/env bash
# Portico: cost that does not grow with the number of hosted apps.   bench/scale.sh
#
# For 1, 100 and 1,000 hosted apps (one busy out-of-process Node app, the rest idle out-of-process
# apps that are never started), in the real Tomcat 11 distribution, each on a fresh CATALINA_BASE:
#   start      Tomcat's own "Server startup in [N] milliseconds"
#   req/s, µs  wrk on the busy app: throughput and the front's CPU per request (utime+stime from
#              /proc/PID/stat before and after, ÷ requests): what mapping costs as apps are added
#   idle CPU   the front's utime+stime over a quiet minute (no request), in % of one core
#   heap       used heap after a full GC (jcmd GC.run, then GC.heap_info), and the thread count
# then 10,000 idle WebSocket tunnels through Portico to the busy app (bench/scale_tunnels.py):
# the front's threads and heap after a full GC with them open, against the same front without.
#
# Every build in SCALE_JARS is measured in the same run, rounds side by side (e.g. the plugin
# before and after a change). Loopback only; bounded in time; every process started here is
# stopped on exit. Results: bench/target/scale/results.md (and .tsv).
#
# Knobs: SCALE_COUNTS ("1 100 1000"), SCALE_QUIET (s, 60), SCALE_WRK (s, 10), SCALE_TUNNELS
# (10000; 0 = skip), SCALE_JARS ("label=jar ...", default "current=plugin/target/portico-tomcat-*.jar").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/target/scale"
TOMCAT_VERSION=11.0.24
NODE_SERVER="$ROOT/integration-tests/backends/node/server.js"
COUNTS=${SCALE_COUNTS:-"1 100 1000"}
QUIET=${SCALE_QUIET:-60}
WRK_SECONDS=${SCALE_WRK:-10}
TUNNELS=${SCALE_TUNNELS:-10000}
JARS=${SCALE_JARS:-"current=$ROOT/plugin/target/portico-tomcat-0.1.0-SNAPSHOT.jar"}

log() { printf '[scale %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PIDS=()
cleanup() {
    local status=$?
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 1 100); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
    reap_children
    exit $status
}
# Portico's children (recorded by the valve) in case a front was killed hard
reap_children() {
    local list="$OUT/base/work/Portico/localhost/children.txt"
    [ -f "$list" ] || return 0
    while read -r cpid _; do
        [[ "$cpid" =~ ^[0-9]+$ ]] && kill -0 "$cpid" 2>/dev/null && kill -KILL "$cpid" 2>/dev/null
    done < "$list"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in java jcmd wrk curl python3 node; do command -v $tool >/dev/null || die "$tool is required"; done
# 10,000 client connections and 10,000 backend connections in one front process
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $(( 2 * TUNNELS + 1000 )) ] || { log "ulimit -n $(ulimit -n) is too low for $TUNNELS tunnels: fewer"; TUNNELS=$(( ($(ulimit -n) - 1000) / 2 )); }

mkdir -p "$OUT"
TOMCAT_TGZ="$HOME/.m2/repository/org/apache/tomcat/tomcat/$TOMCAT_VERSION/tomcat-$TOMCAT_VERSION.tar.gz"
[ -f "$TOMCAT_TGZ" ] || (cd "$ROOT" && mvn -B -q dependency:get -Dartifact="org.apache.tomcat:tomcat:$TOMCAT_VERSION:tar.gz" -Dtransitive=false)
CATALINA_HOME="$OUT/apache-tomcat-$TOMCAT_VERSION"
[ -f "$CATALINA_HOME/lib/catalina.jar" ] || tar -xzf "$TOMCAT_TGZ" -C "$OUT"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
threads_of() { awk '/^Threads:/{print $2}' "/proc/$1/status"; }
heap_after_gc_kb() { # used heap in KiB after a full GC
    jcmd "$1" GC.run >/dev/null
    sleep 1
    jcmd "$1" GC.heap_info | awk '/garbage-first heap|def new generation|PSYoungGen/ { for (i=1;i<=NF;i++) if ($i=="used") { v=$(i+1); sub(/K,?/,"",v); print v; exit } }'
}
HZ=$(getconf CLK_TCK)

# layout <jar> <apps>: a fresh CATALINA_BASE with one busy app and apps-1 idle ones
layout() {
    local jar=$1 apps=$2 base="$OUT/base"
    rm -rf "$base"
    mkdir -p "$base"/{logs,temp,work,webapps,apps,lib}
    cp -r "$CATALINA_HOME/conf" "$base/conf"
    cp "$jar" "$base/lib/portico-tomcat.jar"
    mkdir -p "$base/apps/busy"
    cat > "$base/apps/busy/portico.xml" <<XML
<portico processPath="node" arguments="$NODE_SERVER">
  <environmentVariables><environmentVariable name="BACKEND_QUIET" value="1"/></environmentVariables>
</portico>
XML
    for i in $(seq 2 "$apps"); do
        mkdir -p "$base/apps/idle$i"
        echo "<portico processPath=\"node\" arguments=\"$NODE_SERVER\"/>" > "$base/apps/idle$i/portico.xml"
    done
    PORT=$(free_port)
    cat > "$base/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="$PORT" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"
               maxConnections="$(( TUNNELS + 1000 ))"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false">
        <Valve className="dev.portico.PorticoValve" appBase="apps"/>
      </Host>
    </Engine>
  </Service>
</Server>
EOF
}

start_front() {
    local base="$OUT/base"
    ( export CATALINA_HOME CATALINA_BASE="$base" CATALINA_PID="" CATALINA_OPTS="-Xmx1g"
      exec "$CATALINA_HOME/bin/catalina.sh" run > "$base/logs/console.log" 2>&1 < /dev/null ) &
    FRONT_PID=$!
    PIDS+=($FRONT_PID)
    local deadline=$(( $(date +%s) + 120 ))
    until grep -q 'Server startup in' "$base/logs/console.log" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || die "the front did not start: $(tail -5 "$base/logs/console.log")"
        kill -0 $FRONT_PID 2>/dev/null || die "the front exited: $(tail -5 "$base/logs/console.log")"
        sleep 0.2
    done
    START_MS=$(grep -o 'Server startup in \[[0-9,]*\] milliseconds' "$base/logs/console.log" | tr -dc '0-9')
    # the JVM: catalina.sh run execs java, so the pid is the JVM's
    deadline=$(( $(date +%s) + 60 ))
    until [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$PORT/busy/")" = 200 ]; do
        [ "$(date +%s)" -lt "$deadline" ] || die "the busy app did not answer"
        sleep 0.3
    done
}

stop_front() {
    kill -TERM "$FRONT_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$FRONT_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$FRONT_PID" 2>/dev/null && { log "front still up: killing"; kill -KILL "$FRONT_PID"; }
    wait "$FRONT_PID" 2>/dev/null || true
    reap_children
}

TSV="$OUT/results.tsv"
printf 'build\tapps\tstart_ms\treq_s\tfront_us_per_req\tidle_cpu_pct\theap_mb\tthreads\n' > "$TSV"
measure_apps() { # label jar apps
    local label=$1 jar=$2 apps=$3
    log "$label: $apps apps"
    layout "$jar" "$apps"
    start_front
    # warm the busy path, then measure throughput and front CPU per request
    wrk -t1 -c16 -d3s "http://127.0.0.1:$PORT/busy/" >/dev/null
    local c0 c1 out reqs
    c0=$(cpu_ticks $FRONT_PID)
    out=$(wrk -t1 -c16 -d"${WRK_SECONDS}s" "http://127.0.0.1:$PORT/busy/")
    c1=$(cpu_ticks $FRONT_PID)
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    local rps us
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    us=$(python3 -c "print(f'{($c1-$c0)/$HZ*1e6/$reqs:.1f}')")
    # a quiet minute: nothing but Tomcat's and Portico's own timers
    sleep 5
    c0=$(cpu_ticks $FRONT_PID)
    sleep "$QUIET"
    c1=$(cpu_ticks $FRONT_PID)
    local idle
    idle=$(python3 -c "print(f'{($c1-$c0)/$HZ/$QUIET*100:.2f}')")
    local heap threads
    heap=$(heap_after_gc_kb $FRONT_PID)
    threads=$(threads_of $FRONT_PID)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$apps" "$START_MS" "$rps" "$us" "$idle" \
        "$(python3 -c "print(f'{$heap/1024:.1f}')")" "$threads" >> "$TSV"
    log "$label $apps apps: start ${START_MS} ms, ${rps} req/s, ${us} µs/req, idle ${idle}% core, heap $((heap/1024)) MB, $threads threads"
    stop_front
}

TUN_TSV="$OUT/tunnels.tsv"
printf 'build\ttunnels_open\tfailed\techoed\tthreads_before\tthreads_with\tthreads_with_after_65s\theap_before_mb\theap_with_mb\theap_per_tunnel_kb\n' > "$TUN_TSV"
measure_tunnels() { # label jar
    local label=$1 jar=$2
    log "$label: $TUNNELS WebSocket tunnels"
    layout "$jar" 1
    start_front
    curl -s -o /dev/null "http://127.0.0.1:$PORT/busy/"
    local threads0 heap0
    heap0=$(heap_after_gc_kb $FRONT_PID)
    threads0=$(threads_of $FRONT_PID)
    local fifo="$OUT/tunnels.fifo"
    rm -f "$fifo"; mkfifo "$fifo"
    python3 "$ROOT/bench/scale_tunnels.py" 127.0.0.1 "$PORT" /busy/ws-echo "$TUNNELS" < "$fifo" > "$OUT/tunnels.out" &
    local client=$!
    PIDS+=($client)
    exec 7> "$fifo"
    local deadline=$(( $(date +%s) + 240 ))
    until [ -s "$OUT/tunnels.out" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || die "tunnels did not open"
        kill -0 $client 2>/dev/null || die "the tunnel client exited"
        sleep 1
    done
    local opened failed echoed
    read -r _ opened _ failed _ echoed _ < "$OUT/tunnels.out"
    sleep 3
    local heap1 threads1
    heap1=$(heap_after_gc_kb $FRONT_PID)
    threads1=$(threads_of $FRONT_PID)
    # Tomcat's executor keeps the threads the handshakes needed for 60 s (maxIdleTime): then what tunnels hold
    sleep 65
    local threads2
    threads2=$(threads_of $FRONT_PID)
    echo done >&7
    exec 7>&-
    wait $client 2>/dev/null || true
    rm -f "$fifo"
    local per
    per=$(python3 -c "print(f'{($heap1-$heap0)/max(1,$opened):.1f}')")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$opened" "$failed" "$echoed" "$threads0" "$threads1" \
        "$threads2" "$((heap0/1024))" "$((heap1/1024))" "$per" >> "$TUN_TSV"
    log "$label: $opened tunnels open ($failed failed, $echoed echoed): threads $threads0 -> $threads1 ($threads2 after 65 s), heap $((heap0/1024)) -> $((heap1/1024)) MB ($per KiB/tunnel)"
    stop_front
}

for n in $COUNTS; do
    for entry in $JARS; do measure_apps "${entry%%=*}" "${entry#*=}" "$n"; done
done
if [ "$TUNNELS" -gt 0 ]; then
    for entry in $JARS; do measure_tunnels "${entry%%=*}" "${entry#*=}"; done
fi

{
    echo "| build | apps | Tomcat start (ms) | busy app req/s | front CPU µs/req | idle CPU (% of a core) | heap after GC (MB) | threads |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    tail -n +2 "$TSV" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1,$2,$3,$4,$5,$6,$7,$8}'
    echo
    echo "| build | tunnels open | failed | echoed (sample) | threads without → with (→ 65 s later) | heap after GC without → with (MB) | heap per tunnel (KiB) |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    tail -n +2 "$TUN_TSV" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s → %s (→ %s) | %s → %s | %s |\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10}'
} > "$OUT/results.md"
cat "$OUT/results.md"
