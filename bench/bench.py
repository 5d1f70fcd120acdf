#!/usr/bin/env python3
"""Measurement and report half of bench/run.sh (which starts the servers and exports ports and pids).

Timed wrk rounds (the fronts of a group one after the other, the same order every round), with the
front process's CPU time and context switches read from /proc before and after each run; syscall
counts (strace -c) in separate untimed runs; idle CPU; cold start; results.json, results.md and
the SVG chart. Standard library only.
"""
import datetime
import glob
import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import zipfile

OUT = os.environ["BENCH_OUT"]
ROOT = os.environ["BENCH_ROOT"]
TOKEN = os.environ["BENCH_TOKEN"]
FRONT = int(os.environ["FRONT_PORT"])
DIRECT = int(os.environ["DIRECT_PORT"])
NGINX = int(os.environ["NGINX_PORT"])
HELLO = int(os.environ["HELLO_PORT"])
FRONT_PID = int(os.environ["FRONT_PID"])
DIRECT_PID = int(os.environ["DIRECT_PID"])
NGINX_PID = int(os.environ["NGINX_PID"])
HELLO_PID = int(os.environ["HELLO_PID"])
DURATION = int(os.environ.get("BENCH_DURATION", "8"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
WARMUP_SLICE, WARMUP_MAX, JIT_SETTLED = 3, int(os.environ.get("BENCH_WARMUP_MAX", "30")), 0.03
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
COLD_REPS = int(os.environ.get("BENCH_COLD_REPS", "5"))
STRACE_SECONDS = int(os.environ.get("BENCH_STRACE_SECONDS", "3"))
STRACE_GROUPS = os.environ.get("BENCH_STRACE_GROUPS", "23b").split(",")
CHART = os.path.join(ROOT, "docs", "benchmarks-chart.svg")
CLK_TCK = os.sysconf("SC_CLK_TCK")

BODY = b"hello from the backend\n"  # bench/nginx-backend.sh's answer, 23 bytes
TOKEN_HEADER = "X-Portico-Token: " + TOKEN

# Fronts: label, port, path prefix, extra header, backend (the group it belongs to), the front's
# processes, the backend's processes (None: the front is the backend, or answers itself)
TARGETS = {
    "direct": ("nginx backend direct (no front)", HELLO, "/hello", TOKEN_HEADER, "nginx",
               lambda: tree(HELLO_PID), None),
    "nginx": ("nginx reverse proxy", NGINX, "/hello", None, "nginx",
              lambda: tree(NGINX_PID), lambda: tree(HELLO_PID)),
    "portico": ("Portico out-of-process (TCP)", FRONT, "/hello", None, "nginx",
                lambda: [FRONT_PID], lambda: portico_children("/hello")),
    "floor": ("front Tomcat answering itself (floor)", FRONT, "/floor", None, "nginx",
              lambda: [FRONT_PID], None),
    "portico-unix": ("Portico out-of-process (Unix socket)", FRONT, "/hellounix", None, "nginx",
                     lambda: [FRONT_PID], lambda: portico_children("/hellounix")),
    "war-direct": ("WAR runner direct (no front)", DIRECT, "/bench", TOKEN_HEADER, "war",
                   lambda: [DIRECT_PID], None),
    "war-portico": ("Portico out-of-process", FRONT, "/bench", None, "war",
                    lambda: [FRONT_PID], lambda: portico_children("/bench")),
    "war-nginx": ("nginx reverse proxy", NGINX, "/bench", None, "war",
                  lambda: tree(NGINX_PID), lambda: [DIRECT_PID]),
    "war-inproc": ("Portico in-process", FRONT, "/benchin", None, "war", lambda: [FRONT_PID], None),
    "war-tomcat": ("plain Tomcat (webapps/)", FRONT, "/plain", None, "war", lambda: [FRONT_PID], None),
}
DIRECT_OF = {"nginx": "direct", "war": "war-direct"}
# Response groups: label, backend, path below the target's prefix
GROUPS = {
    "23b": ("23 bytes (nginx backend)", "nginx", "/"),
    "small": ("small servlet (WAR /info)", "war", "/info"),
    "64k": ("64 KiB (WAR /download)", "war", "/download?bytes=65536"),
}
WANTED = os.environ.get("BENCH_TARGETS", ",".join(TARGETS)).split(",")
unknown = [t for t in WANTED if t not in TARGETS]
if unknown:
    raise SystemExit(f"BENCH_TARGETS: unknown {', '.join(unknown)} (known: {', '.join(TARGETS)})")


def log(message):
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def fetch(port, path, header=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {}
    if header:
        name, value = header.split(": ", 1)
        headers[name] = value
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body, response.getheaders()


# ------------------------------------------------------------------------------------------
# processes, /proc

def children_of():
    by_parent = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        by_parent.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    return by_parent


def tree(pid):
    """pid and every process below it (nginx's master and its workers)."""
    by_parent, out, todo = children_of(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += by_parent.get(p, [])
    return out


def environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
    except OSError:
        return {}


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def portico_children(path_base):
    """The processes Portico started for the app at path_base, with their own children. nginx
    writes its title over its arguments and environment, so an nginx backend is known by the run
    directory in its title."""
    run_dir = os.path.join(OUT, "front", "run", path_base.strip("/")).encode() + b"/"
    found = []
    for child in children_of().get(FRONT_PID, []):
        if environ(child).get(b"PORTICO_PATH_BASE") == path_base.encode() or run_dir in b" ".join(cmdline(child)):
            found += tree(child)
    return found


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime: the whole thread group
        except OSError:
            pass
    return total


def context_switches(pids):
    """voluntary + nonvoluntary over every thread (a thread that ends takes its counts with it)."""
    total = 0
    for pid in pids:
        for status in glob.glob(f"/proc/{pid}/task/*/status"):
            try:
                with open(status) as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                            total += int(line.split()[1])
            except OSError:
                pass
    return total


def jit_ticks(pids):
    """CPU of the JIT compiler threads (HotSpot's "C1/C2 CompilerThread<n>"), still part of the front's."""
    total = 0
    for pid in pids:
        for task in glob.glob(f"/proc/{pid}/task/*"):
            try:
                with open(task + "/comm") as f:
                    if not f.read().startswith(("C1 Compiler", "C2 Compiler")):
                        continue
                with open(task + "/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
    return total


def sample(target):
    front = TARGETS[target][5]()
    backend_of = TARGETS[target][6]
    backend = backend_of() if backend_of else []
    return {"time": time.monotonic(), "front_pids": front, "front_cpu": cpu_ticks(front),
            "front_jit": jit_ticks(front), "front_cs": context_switches(front), "backend_pids": backend,
            "backend_cpu": cpu_ticks(backend)}


# ------------------------------------------------------------------------------------------
# wrk

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def url_of(target, group):
    _, port, prefix, _, _, _, _ = TARGETS[target]
    return f"http://127.0.0.1:{port}{prefix}{GROUPS[group][2]}"


def wrk(target, group, seconds):
    header = TARGETS[target][3]
    url = url_of(target, group)
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if header:
        cmd += ["-H", header]
    cmd.append(url)
    load = loadavg()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    result = {"target": target, "group": group, "url": url, "loadavg1": load}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = to_ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return result


def timed_run(target, group, seconds):
    """One wrk run with the front's (and backend's) CPU and context switches read around it."""
    before = sample(target)
    result = wrk(target, group, seconds)
    after = sample(target)
    n = result["requests"]
    wall = after["time"] - before["time"]
    front_cpu_s = (after["front_cpu"] - before["front_cpu"]) / CLK_TCK
    result["front_pids"] = before["front_pids"]
    result["front_cpu_s"] = front_cpu_s
    result["front_cores"] = front_cpu_s / wall
    result["front_cpu_us_per_req"] = front_cpu_s * 1e6 / n if n else None
    jit = (after["front_jit"] - before["front_jit"]) / CLK_TCK
    result["front_jit_share"] = jit / front_cpu_s if front_cpu_s else 0.0
    result["front_cpu_us_per_req_no_jit"] = (front_cpu_s - jit) * 1e6 / n if n else None
    result["front_cs_per_req"] = (after["front_cs"] - before["front_cs"]) / n if n else None
    if before["backend_pids"]:
        backend_cpu_s = (after["backend_cpu"] - before["backend_cpu"]) / CLK_TCK
        result["backend_pids"] = before["backend_pids"]
        result["backend_cpu_us_per_req"] = backend_cpu_s * 1e6 / n if n else None
    return result


# ------------------------------------------------------------------------------------------
# syscalls: strace -c over a separate, untimed run (strace slows every syscall down)

def strace(pids, name, seconds, load=None):
    """strace -c -f attached to every thread of pids while load() runs (or for seconds):
    (calls per syscall, seconds traced, load's result)."""
    out_file = os.path.join(OUT, "strace", f"{name}.txt")
    os.makedirs(os.path.dirname(out_file), exist_ok=True)
    cmd = ["strace", "-c", "-f", "-o", out_file]
    for pid in pids:
        cmd += ["-p", str(pid)]
    messages = out_file + ".log"
    with open(messages, "w") as err:
        tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    begin = time.monotonic()
    try:
        # attached once strace has said so for every thread of the processes
        threads = sum(len(glob.glob(f"/proc/{pid}/task/*")) for pid in pids)
        deadline = time.monotonic() + 15
        attached = 0
        while attached < threads and time.monotonic() < deadline and tracer.poll() is None:
            time.sleep(0.05)
            with open(messages) as f:
                attached = f.read().count(" attached")
        if tracer.poll() is not None:
            with open(messages) as f:
                raise RuntimeError(f"strace ended at once: {f.read()[:300]}")
        begin = time.monotonic()
        result = load() if load else time.sleep(seconds)
    finally:
        tracer.send_signal(signal.SIGINT)
        traced = time.monotonic() - begin
        try:
            tracer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
    calls = {}
    with open(out_file) as f:
        for line in f:
            tokens = line.split()
            if len(tokens) >= 5 and re.match(r"^[\d.]+$", tokens[0]) and tokens[-1] != "total":
                calls[tokens[-1]] = int(tokens[3])
    return calls, traced, result


IDLE_SYSCALLS = {}  # front processes -> syscalls per second with no requests


def strace_run(target, group, seconds):
    """Syscalls per request: strace over a separate, untimed wrk run (strace slows every syscall
    down), less what the same processes do in as much time with no requests at all."""
    pids = TARGETS[target][5]()
    key = tuple(sorted(pids))
    if key not in IDLE_SYSCALLS:
        calls, traced, _ = strace(pids, f"idle-{target}", seconds)
        IDLE_SYSCALLS[key] = {k: v / traced for k, v in calls.items()}
    idle = IDLE_SYSCALLS[key]
    calls, traced, result = strace(pids, f"{target}-{group}", seconds, lambda: wrk(target, group, seconds))
    n = result["requests"]
    net = {k: max(0.0, v - idle.get(k, 0.0) * traced) for k, v in calls.items()}
    per_req = {k: v / n for k, v in sorted(net.items(), key=lambda kv: -kv[1])} if n else {}
    return {"target": target, "group": group, "requests": n, "seconds_traced": traced,
            "rps_under_strace": result["rps"], "calls": calls,
            "idle_calls_per_s": idle, "syscalls_per_req": sum(net.values()) / n if n else None,
            "syscalls_per_req_raw": sum(calls.values()) / n if n else None,
            "per_req": per_req}


# ------------------------------------------------------------------------------------------
# cold start

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.25):
            return True
    except OSError:
        return False


def answers(port, path):
    try:
        status, _, _ = fetch(port, path, TOKEN_HEADER, timeout=2)
        return 200 <= status < 300
    except OSError:
        return False


# kind: label, app name prefix, request path below the app, readiness probe path (None: port)
COLD_KINDS = {
    "nginx-probe": ("nginx (bench/nginx-backend.sh), readinessPath=/healthz", "coldnginxprobe", "/", "/healthz"),
    "node-probe": ("Node (integration-tests/backends/node/server.js), readinessPath=/healthz", "coldnodeprobe",
                   "/", "/healthz"),
    "node": ("Node (same server), port probe", "coldnode", "/", None),
    "war": ("sample WAR under the WAR runner, port probe", "coldwar", "/info", None),
}


def direct_start(kind, index):
    """The backend's own start: spawn it, poll every 0.5 ms (its readiness path, or the port), then
    its first response."""
    _, prefix, path, probe = COLD_KINDS[kind]
    port = free_port()
    base = f"/{prefix}{index}"
    env = dict(os.environ, PORTICO_PORT=str(port), PORTICO_TOKEN=TOKEN, PORTICO_PATH_BASE=base,
               PORTICO_PARENT_PID=str(os.getpid()), PORTICO_HOSTING_MODEL="outOfProcess")
    workdir = os.path.join(OUT, "cold", f"{kind}{index}")
    os.makedirs(workdir, exist_ok=True)
    if kind.startswith("node"):
        shutil.copy(os.environ["NODE_SERVER"], os.path.join(workdir, "server.js"))
        cmd = ["node", "server.js"]
    elif kind == "nginx-probe":
        env["BENCH_NGINX_RUN"] = workdir
        cmd = [os.environ["NGINX_BACKEND"]]
    else:
        with zipfile.ZipFile(os.environ["SAMPLE_WAR"]) as war:
            war.extractall(workdir)
        cmd = ["java", "-cp", os.environ["RUNNER_CP"], "dev.portico.integration.runner.WarRunner", workdir]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = start + 120
        while not (answers(port, base + probe) if probe else accepts(port)):
            if proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"direct {kind} backend did not start")
            time.sleep(0.0005)
        ready = time.perf_counter()
        status, _, _ = fetch(port, base + path, TOKEN_HEADER)
        answered = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"direct {kind} backend answered {status}")
        return {"ready_ms": (ready - start) * 1000, "first_response_ms": (answered - start) * 1000}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def portico_cold(kind, index):
    _, prefix, path, _ = COLD_KINDS[kind]
    start = time.perf_counter()
    status, body, _ = fetch(FRONT, f"/{prefix}{index}{path}", timeout=120)
    elapsed = (time.perf_counter() - start) * 1000
    if status != 200:
        raise RuntimeError(f"Portico cold {kind} answered {status}: {body[:200]!r}")
    return elapsed


def logged_ready_ms(app):
    """What Portico logged: 'process … is ready after N ms' (from its launch to ready)."""
    found = None
    for name in glob.glob(os.path.join(OUT, "front", "logs", "catalina.*.log")):
        with open(name, errors="replace") as f:
            for line in f:
                m = re.search(rf"Portico app \[/?{re.escape(app)}\]: process .* is ready after (\d+) ms", line)
                if m:
                    found = int(m.group(1))
    return found


def cold_start():
    results = {}
    for kind in COLD_KINDS:
        if kind.startswith("node") and not shutil.which("node"):
            continue
        reps = []
        for i in range(1, COLD_REPS + 1):
            # alternate: the backend alone, then the same kind of app through Portico
            own = direct_start(kind, i)
            via = portico_cold(kind, i)
            time.sleep(0.2)  # the log line is written by then
            ready = logged_ready_ms(f"{COLD_KINDS[kind][1]}{i}")
            rep = dict(own, portico_ms=via, portico_logged_ready_ms=ready, overhead_ms=via - own["first_response_ms"],
                       portico_outside_ready_ms=None if ready is None else via - ready)
            log(f"cold {kind} #{i}: backend alone ready after {own['ready_ms']:.1f} ms, first response "
                f"{own['first_response_ms']:.1f} ms; through Portico {via:.1f} ms "
                f"(Portico logged ready after {rep['portico_logged_ready_ms']} ms)")
            reps.append(rep)
        results[kind] = {"reps": reps, **{k: summary([r[k] for r in reps]) for k in reps[0]}}
    return results


# ------------------------------------------------------------------------------------------
# statistics and report

def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt_range(s, digits=0, unit=""):
    if s is None:
        return "—"
    f = f"{{:,.{digits}f}}"
    if s["n"] == 1:
        return f"{f.format(s['median'])}{unit}"
    return f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])})"


def per_round(runs, group, numerator, denominator, key, combine):
    """combine(numerator's run, denominator's run) for each round in which both ran."""
    values = []
    for x in runs:
        if x["target"] != numerator or x["group"] != group:
            continue
        y = next((y for y in runs if y["target"] == denominator and y["group"] == group
                  and y["round"] == x["round"]), None)
        if y is not None and x.get(key) is not None and y.get(key) is not None:
            values.append(combine(x, y))
    return summary(values)


def check(target, group):
    """None if the target answers this group's request correctly, else why it is not measured."""
    _, port, prefix, header, _, _, _ = TARGETS[target]
    path = prefix + GROUPS[group][2]
    if group == "small":
        path = prefix + "/download?bytes=65536"  # the body's pattern is checkable; /info is not
    try:
        status, body, _ = fetch(port, path, header)
    except OSError as e:
        return f"no answer: {e}"
    if status != 200:
        snippet = body[:300].decode("utf-8", "replace")
        if "500.30" in snippet or (target == "war-inproc" and status == 500):
            return "in-process hosting answers 500.30 (not available yet)"
        text = body.decode("utf-8", "replace")
        text = re.sub(r"(?s)<(head|style|script).*?</\1>", " ", text)  # Portico's error page: its words only
        text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))).strip()
        return f"HTTP {status}: {text[:200]}".replace("|", "/")
    if group == "23b" and body != BODY:
        return f"body {body[:60]!r} is not the nginx backend's"
    if group != "23b":
        if body != bytes(i % 251 for i in range(65536)):
            raise SystemExit(f"{target}: 64 KiB body differs from the expected pattern")
    if target == "portico-unix":
        # answered: make sure it is over a Unix socket, not a transport attribute ignored
        confs = []
        for pid in portico_children("/hellounix"):
            m = re.search(rb" -c (\S+)", b" ".join(cmdline(pid)))
            if m:
                confs.append(m.group(1).decode())
        if not any("listen unix:" in open(c).read() for c in confs if os.path.exists(c)):
            return "answered, but its nginx does not listen on a Unix socket (transport ignored?)"
    return None


def same_headers():
    """The header names Portico's forwarded answer and the floor's own answer carry (Date aside)."""
    names = {}
    for t in ("portico", "floor", "direct"):
        try:
            _, port, prefix, header, _, _, _ = TARGETS[t]
            _, _, headers = fetch(port, prefix + "/", header)
            names[t] = sorted(f"{k}: {v}" for k, v in headers if k.lower() != "date")
        except OSError:
            pass
    return names


def idle_cpu(seconds=3):
    """The front Tomcat's CPU with no requests (Portico's appBase scan and the JVM's own threads)."""
    before, t0 = cpu_ticks([FRONT_PID]), time.monotonic()
    time.sleep(seconds)
    return (cpu_ticks([FRONT_PID]) - before) / CLK_TCK / (time.monotonic() - t0)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally-blocks stop what we started
    started = datetime.datetime.now().astimezone()
    load_start = loadavg()
    plan = {g: [t for t in TARGETS if t in WANTED and TARGETS[t][4] == GROUPS[g][1]] for g in GROUPS}
    not_measured = {}

    # correctness and availability before any load
    for g in GROUPS:
        for t in list(plan[g]):
            reason = check(t, g)
            if reason:
                if t not in not_measured:
                    log(f"{t}: not measured: {reason}")
                not_measured[t] = reason
                plan[g].remove(t)
    plan = {g: ts for g, ts in plan.items() if ts}
    headers = same_headers()
    idle = idle_cpu()
    log(f"front Tomcat idle: {idle * 100:.1f}% of a core")

    log(f"warm-up: at least {WARMUP}s per target and response, then {WARMUP_SLICE}s more at a time until "
        f"the JIT compilers take < {JIT_SETTLED * 100:.0f}% of the front's CPU (at most {WARMUP_MAX}s)")
    warmup = {}
    for g, ts in plan.items():
        for t in ts:
            spent, last = WARMUP, timed_run(t, g, WARMUP)
            while last["front_jit_share"] >= JIT_SETTLED and spent + WARMUP_SLICE <= WARMUP_MAX:
                last = timed_run(t, g, WARMUP_SLICE)
                spent += WARMUP_SLICE
            warmup[f"{t}/{g}"] = {"seconds": spent, "last_jit_share": last["front_jit_share"],
                                  "last_front_cpu_us_per_req": last["front_cpu_us_per_req"]}
            if spent > WARMUP:
                log(f"warm-up {g:5} {t:12} {spent}s (JIT {last['front_jit_share'] * 100:.0f}% of the front's CPU "
                    f"in the last {WARMUP_SLICE}s)")

    runs = []
    for r in range(ROUNDS):
        for g, ts in plan.items():
            for t in ts:  # the same order every round: A B C D, A B C D, ...
                result = timed_run(t, g, DURATION)
                result["round"] = r + 1
                runs.append(result)
                log(f"round {r + 1} {g:5} {t:12} {result['rps']:9.0f} req/s  p50 {result['p50_ms']:.2f} ms  "
                    f"p99 {result['p99_ms']:.2f} ms  front CPU {result['front_cpu_us_per_req'] or 0:.1f} µs/req  "
                    f"(JIT {result['front_jit_share'] * 100:.0f}%)  "
                    f"{result['front_cs_per_req'] or 0:.2f} cs/req  load {result['loadavg1']:.2f}"
                    + (f"  NON-2xx {result['non2xx']}" if result["non2xx"] else "")
                    + (f"  socket errors {result['socket_errors']}" if result["socket_errors"] else ""))

    syscalls = {}
    if STRACE_SECONDS > 0 and shutil.which("strace"):
        for g, ts in plan.items():
            if g not in STRACE_GROUPS:
                continue  # strace takes time: by default only the 23-byte group, the method
            for t in ts:
                s = strace_run(t, g, STRACE_SECONDS)
                syscalls[f"{t}/{g}"] = s
                top = ", ".join(f"{k} {v:.2f}" for k, v in list(s["per_req"].items())[:5])
                log(f"strace {g:5} {t:12} {s['syscalls_per_req'] or 0:.2f} syscalls/req ({top}) over "
                    f"{s['requests']} requests")

    table = {}
    for g, ts in plan.items():
        direct = DIRECT_OF[GROUPS[g][1]]
        for t in ts:
            mine = [x for x in runs if x["target"] == t and x["group"] == g]
            table[f"{t}/{g}"] = {
                "target": t, "group": g,
                "rps": summary([x["rps"] for x in mine]),
                "p50_ms": summary([x["p50_ms"] for x in mine]),
                "p99_ms": summary([x["p99_ms"] for x in mine]),
                "ratio_to_direct": per_round(runs, g, t, direct, "rps", lambda x, y: x["rps"] / y["rps"])
                if direct in ts else None,
                "front_cpu_us_per_req": summary([x["front_cpu_us_per_req"] for x in mine]),
                "front_cs_per_req": summary([x["front_cs_per_req"] for x in mine]),
                "front_jit_share": summary([x["front_jit_share"] for x in mine]),
                "front_cores": summary([x["front_cores"] for x in mine]),
                "backend_cpu_us_per_req": summary([x.get("backend_cpu_us_per_req") for x in mine]),
                "syscalls_per_req": (syscalls.get(f"{t}/{g}") or {}).get("syscalls_per_req"),
                "non2xx": sum(x["non2xx"] for x in mine),
                "socket_errors": sum(x["socket_errors"] for x in mine),
            }
    # in-process against plain Tomcat, per round
    for g in ("small", "64k"):
        if "war-inproc" in plan.get(g, []) and "war-tomcat" in plan.get(g, []):
            table[f"war-inproc/{g}"]["ratio_to_plain_tomcat"] = per_round(
                runs, g, "war-inproc", "war-tomcat", "rps", lambda x, y: x["rps"] / y["rps"])

    # the goals: forwarding cost = Portico's front CPU/req - the floor's, per round
    forwarding = {}
    ts = plan.get("23b", [])
    cpu = "front_cpu_us_per_req"
    for t, goal in (("portico", 1.3), ("portico-unix", 1.0)):
        if t in ts and "floor" in ts:
            nojit = "front_cpu_us_per_req_no_jit"
            entry = {"forwarding_us": per_round(runs, "23b", t, "floor", cpu, lambda x, y: x[cpu] - y[cpu]),
                     "forwarding_us_no_jit": per_round(runs, "23b", t, "floor", nojit,
                                                       lambda x, y: x[nojit] - y[nojit]),
                     "goal_ratio": goal}
            if "nginx" in ts:
                by_round = {}
                for x in runs:
                    if x["group"] == "23b":
                        by_round.setdefault(x["round"], {})[x["target"]] = x
                ratios = [(b[t][cpu] - b["floor"][cpu]) / b["nginx"][cpu] for b in by_round.values()
                          if all(k in b and b[k][cpu] for k in (t, "floor", "nginx"))]
                entry["ratio_to_nginx_cpu"] = summary(ratios)
                entry["p99_ratio_to_nginx"] = per_round(runs, "23b", t, "nginx", "p99_ms",
                                                        lambda x, y: x["p99_ms"] / y["p99_ms"])
                entry["met_cpu"] = entry["ratio_to_nginx_cpu"] is not None and \
                    entry["ratio_to_nginx_cpu"]["median"] <= goal
                entry["met_p99"] = entry["p99_ratio_to_nginx"] is not None and \
                    entry["p99_ratio_to_nginx"]["median"] <= 1.5
            forwarding[t] = entry

    cold = cold_start() if COLD_REPS > 0 else {}
    load_end = loadavg()
    # all load has ended: an app or process that still counts a request in flight has lost count
    try:
        time.sleep(1)
        _, body, _ = fetch(FRONT, "/portico-status?format=json")
        status = json.loads(body)
        in_flight = {a["name"]: a["inFlight"] for a in status["apps"] if a.get("inFlight")}
        in_flight.update({f"{a['name']} pid {p['pid']}": p["inFlight"] for a in status["apps"]
                          for p in a.get("processes", []) if p.get("inFlight")})
    except (OSError, ValueError, KeyError) as e:
        in_flight = {"status page": f"unreadable: {e}"}
    if in_flight:
        log(f"after the load, Portico still counts requests in flight: {in_flight}")

    # noise: spread of each direct backend's own throughput across rounds
    noise = {}
    for g, ts in plan.items():
        d = table.get(f"{DIRECT_OF[GROUPS[g][1]]}/{g}", {}).get("rps")
        noise[g] = (d["max"] - d["min"]) / d["median"] if d and d["median"] else None

    results = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg1_start": load_start, "loadavg1_end": load_end,
                    "loadavg1_runs": summary([x["loadavg1"] for x in runs]),
                    "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0],
                    "wrk": f"-t{THREADS} -c{CONNECTIONS} -d{DURATION}s --latency, warm-up {WARMUP}s, {ROUNDS} rounds",
                    "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
                    "clk_tck": CLK_TCK},
        "targets": {t: TARGETS[t][0] for t in TARGETS},
        "groups": {g: GROUPS[g][0] for g in GROUPS},
        "plan": plan,
        "not_measured": not_measured,
        "headers": headers,
        "front_idle_cores": idle,
        "warmup": warmup,
        "table": table,
        "forwarding": forwarding,
        "syscalls": syscalls,
        "direct_spread": noise,
        "cold_start": cold,
        "in_flight_after_load": in_flight,
        "runs": runs,
    }
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    md = markdown(results)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(md)
    print(md)
    if os.environ.get("BENCH_NO_CHART", "0") != "1" and runs:
        with open(CHART, "w") as f:
            f.write(svg(results))
        log(f"chart: {CHART}")


def markdown(results):
    m = results["machine"]
    runs_load = m["loadavg1_runs"]
    lines = [f"Run {results['started']} · {m['cpus']} CPUs · wrk {m['wrk']} · load average "
             f"{m['loadavg1_start']:.2f} at the start, {fmt_range(runs_load, 2)} at the start of the timed runs, "
             f"{m['loadavg1_end']:.2f} at the end · {m['java']} · {m['nginx']}", "",
             "Median (min–max) over the rounds. Ratio = req/s ÷ the direct backend's req/s in the same round. "
             "CPU = utime+stime of the front's processes (/proc/PID/stat) over the run ÷ requests; context "
             "switches summed over the front's threads; syscalls from `strace -c -f` over a separate untimed "
             f"run of {STRACE_SECONDS} s less the same processes' syscalls in as long with no requests. Front Tomcat idle: {results['front_idle_cores'] * 100:.1f}% of a core.", ""]
    lines.append("| response | front | req/s | ratio to direct | p50 ms | p99 ms | front CPU µs/req | "
                 "front cs/req | syscalls/req | backend CPU µs/req | errors |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for g in GROUPS:
        for t in TARGETS:
            if TARGETS[t][4] != GROUPS[g][1]:
                continue
            label = TARGETS[t][0]
            if t in results["not_measured"]:
                lines.append(f"| {GROUPS[g][0]} | {label} | not measured | — | — | — | — | — | — | — | "
                             f"{results['not_measured'][t]} |")
                continue
            row = results["table"].get(f"{t}/{g}")
            if row is None:
                continue
            ratio = row["ratio_to_direct"]
            if t == DIRECT_OF[GROUPS[g][1]]:
                ratio_text = "1.00"
            else:
                ratio_text = fmt_range(ratio, 2)
            if "ratio_to_plain_tomcat" in row and row["ratio_to_plain_tomcat"]:
                ratio_text += f"; {row['ratio_to_plain_tomcat']['median']:.2f}× plain Tomcat"
            errors = row["non2xx"] + row["socket_errors"]
            sc = row["syscalls_per_req"]
            lines.append(f"| {GROUPS[g][0]} | {label} | {fmt_range(row['rps'])} | {ratio_text} | "
                         f"{fmt_range(row['p50_ms'], 2)} | {fmt_range(row['p99_ms'], 2)} | "
                         f"{fmt_range(row['front_cpu_us_per_req'], 1)} | {fmt_range(row['front_cs_per_req'], 2)} | "
                         f"{'—' if sc is None else f'{sc:.1f}'} | {fmt_range(row['backend_cpu_us_per_req'], 1)} | "
                         f"{errors} |")
    jitty = [f"{TARGETS[row['target']][0]} ({GROUPS[row['group']][0]}) {row['front_jit_share']['max'] * 100:.0f}%"
             for row in results["table"].values() if row["front_jit_share"] and row["front_jit_share"]["max"] >= 0.03]
    lines += ["", "JIT compiler threads' share of the front's CPU in a timed run: "
              + (f"3% or more in {', '.join(jitty)} (the warm-up did not settle it)" if jitty else "below 3% in every run")
              + "."]
    spread = {g: v for g, v in results["direct_spread"].items() if v is not None}
    if spread and ROUNDS > 1:
        lines += ["", "Noise: the direct backend's own req/s varied by "
                  + ", ".join(f"{spread[g] * 100:.0f}% ({g})" for g in spread)
                  + " of its median between rounds."]

    fw = results["forwarding"]
    if fw:
        lines += ["", "Forwarding cost (nginx backend, 23 bytes) = Portico's front CPU/req − the floor's, per round; "
                  "compared with nginx's whole CPU/req as a proxy:", "",
                  "| transport | forwarding µs/req | the same without the JIT compiler threads | ÷ nginx proxy CPU/req | goal "
                  "| p99 ÷ nginx p99 (goal ≤ 1.5) |",
                  "|---|---:|---:|---:|---:|---:|"]
        for t, e in fw.items():
            r, p = e.get("ratio_to_nginx_cpu"), e.get("p99_ratio_to_nginx")
            verdict = "" if r is None else (" **met**" if e["met_cpu"] else " not met")
            pverdict = "" if p is None else (" **met**" if e["met_p99"] else " not met")
            lines.append(f"| {'TCP' if t == 'portico' else 'Unix socket'} | {fmt_range(e['forwarding_us'], 1)} | "
                         f"{fmt_range(e['forwarding_us_no_jit'], 1)} | {fmt_range(r, 2)} | ≤ {e['goal_ratio']}×{verdict} | {fmt_range(p, 2)}{pverdict} |")
    if "portico-unix" in results["not_measured"]:
        lines += ["", f"Portico over a Unix socket: not measured ({results['not_measured']['portico-unix']})."]

    if results["syscalls"]:
        lines += ["", "Syscalls per request of the front's processes (strace -c -f, untimed runs), the most frequent:",
                  "", "| response | front | requests traced | syscalls/req, net of idle (raw) | top syscalls per request |",
                  "|---|---|---:|---:|---|"]
        for key, s in results["syscalls"].items():
            top = ", ".join(f"{k} {v:.2f}" for k, v in list(s["per_req"].items())[:6])
            lines.append(f"| {GROUPS[s['group']][0]} | {TARGETS[s['target']][0]} | {s['requests']:,} | "
                         f"{s['syscalls_per_req'] or 0:.1f} (raw {s['syscalls_per_req_raw'] or 0:.1f}) | {top} |")

    h = results["headers"]
    if h.get("portico") and h.get("floor"):
        same = "the same" if h["portico"] == h["floor"] else "NOT the same"
        lines += ["", f"Answer headers (Date aside) of Portico's forwarded answer and the floor's: {same} "
                  f"(Portico: {'; '.join(h['portico'])} — floor: {'; '.join(h['floor'])})."]

    lines += ["", "After all load had ended, Portico's status page counted "
              + (f"requests still in flight: {results['in_flight_after_load']} (a count that leaked)."
                 if results["in_flight_after_load"] else "no request in flight (as it should).")]
    if results["cold_start"]:
        lines += ["", "Cold start: the first request to an app whose backend is not running, ms, median (min–max). "
                  "Backend alone = spawned here, polled every 0.5 ms (its readiness path, or its port), then its "
                  "first response; overhead = through Portico − backend alone's first response; through Portico − "
                  "Portico's ready = what the first request spends outside Portico's launch-to-ready (before the "
                  "launch, and forwarding it once ready).", "",
                  "| backend | alone: ready | alone: first response | through Portico: first response | "
                  "Portico's log: ready after | through Portico − Portico's ready | overhead |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for kind, c in results["cold_start"].items():
            goal = " (goal ≤ 5)" if kind.endswith("probe") else ""
            lines.append(f"| {COLD_KINDS[kind][0]} | {fmt_range(c['ready_ms'], 1)} | "
                         f"{fmt_range(c['first_response_ms'], 1)} | {fmt_range(c['portico_ms'], 1)} | "
                         f"{fmt_range(c['portico_logged_ready_ms'])} | {fmt_range(c.get('portico_outside_ready_ms'), 1)} | "
                         f"{fmt_range(c['overhead_ms'], 1)}{goal} |")
    return "\n".join(lines) + "\n"


COLORS = {"direct": "#4d4d4d", "nginx": "#1b9e77", "portico": "#d95f02", "floor": "#a6761d",
          "portico-unix": "#e7298a", "war-direct": "#4d4d4d", "war-portico": "#d95f02", "war-nginx": "#1b9e77",
          "war-inproc": "#7570b3", "war-tomcat": "#66a61e"}


def svg(results):
    """Three panels drawn by hand: throughput ratio to direct, p99 latency, front CPU per request;
    one group of bars per response; whiskers = min–max over the rounds."""
    plan = results["plan"]
    groups = [g for g in GROUPS if g in plan]
    panel_w, top, bottom, gap = 380, 60, 300, 70
    width = 60 + 3 * (panel_w + gap)
    legend = [t for t in TARGETS if any(t in plan[g] for g in groups)]
    height = 350 + 18 * ((len(legend) + 2) // 3) + 14 * len(results["not_measured"]) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">'
           f'Portico benchmark ({results["machine"]["wrk"]}, {results["machine"]["cpus"]} CPUs, loopback, '
           f'load average {fmt_range(results["machine"]["loadavg1_runs"], 1)} during the timed runs)</text>']

    def panel(x0, title, key, fmt):
        stats = [results["table"][f"{t}/{g}"][key] for g in groups for t in plan[g]]
        stats = [s for s in stats if s]
        if not stats:
            return
        maximum = max(s["max"] for s in stats) * 1.1 or 1
        out.append(f'<text x="{x0 + panel_w / 2}" y="{top - 12}" text-anchor="middle" font-weight="bold">{title}</text>')
        out.append(f'<line x1="{x0}" y1="{bottom}" x2="{x0 + panel_w}" y2="{bottom}" stroke="black"/>')
        out.append(f'<line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="black"/>')
        for k in range(5):
            v = maximum * k / 4
            y = bottom - (bottom - top) * k / 4
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + panel_w}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{fmt(v)}</text>')
        group_w = panel_w / len(groups)
        for gi, g in enumerate(groups):
            gx = x0 + gi * group_w + 6
            bar_w = (group_w - 12) / max(1, len(plan[g]))
            out.append(f'<text x="{gx + (group_w - 12) / 2:.1f}" y="{bottom + 16}" text-anchor="middle" '
                       f'font-size="10">{GROUPS[g][0]}</text>')
            for ti, t in enumerate(plan[g]):
                stat = results["table"][f"{t}/{g}"][key]
                if stat is None:
                    continue
                bx = gx + ti * bar_w
                h = (bottom - top) * stat["median"] / maximum
                out.append(f'<rect x="{bx + 1:.1f}" y="{bottom - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                           f'fill="{COLORS[t]}"><title>{TARGETS[t][0]}: {fmt(stat["median"])}</title></rect>')
                lo = bottom - (bottom - top) * stat["min"] / maximum
                hi = bottom - (bottom - top) * stat["max"] / maximum
                cx = bx + bar_w / 2
                out.append(f'<line x1="{cx:.1f}" y1="{lo:.1f}" x2="{cx:.1f}" y2="{hi:.1f}" stroke="black"/>')
                out.append(f'<text x="{cx:.1f}" y="{bottom - h - 4:.1f}" text-anchor="middle" font-size="8">'
                           f'{fmt(stat["median"])}</text>')

    panel(60, "throughput ÷ backend direct (higher is better)", "ratio_to_direct", lambda v: f"{v:.2f}")
    panel(60 + panel_w + gap, "p99 latency, ms (lower is better)", "p99_ms", lambda v: f"{v:.1f}")
    panel(60 + 2 * (panel_w + gap), "front CPU per request, µs (lower is better)", "front_cpu_us_per_req",
          lambda v: f"{v:.0f}")
    for i, t in enumerate(legend):
        lx, ly = 60 + (i % 3) * 420, 340 + 18 * (i // 3)
        group = "23 B" if TARGETS[t][4] == "nginx" else "WAR"
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{COLORS[t]}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly + 10}">{group}: {TARGETS[t][0]}</text>')
    y = height - 8
    for t, why in results["not_measured"].items():
        out.append(f'<text x="60" y="{y}" font-size="10" fill="#666">{TARGETS[t][0]}: not measured '
                   f'({html.escape(why[:160])})</text>')
        y -= 14
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
