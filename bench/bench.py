#!/usr/bin/env python3
"""Measurement and report half of bench/run.sh (which starts the servers and exports the ports).

wrk rounds (targets alternate, rotated each round), cold start, results.json, results.md and the
SVG chart. Standard library only.
"""
import datetime
import http.client
import json
import os
import re
import shutil
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
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
COLD_REPS = int(os.environ.get("BENCH_COLD_REPS", "3"))
WANTED = os.environ.get("BENCH_TARGETS", "direct,portico,nginx,inproc,tomcat").split(",")
CHART = os.path.join(ROOT, "docs", "benchmarks-chart.svg")

TOKEN_HEADER = "X-Portico-Token: " + TOKEN
TARGETS = {  # name: (label, port, path prefix, extra header)
    "direct": ("backend direct (WAR runner JVM)", DIRECT, "/bench", TOKEN_HEADER),
    "portico": ("Portico out-of-process", FRONT, "/bench", None),
    "nginx": ("nginx reverse proxy", NGINX, "/bench", None),
    "inproc": ("Portico in-process", FRONT, "/benchin", None),
    "tomcat": ("plain Tomcat (webapps/)", FRONT, "/plain", None),
}
SIZES = {  # name: (label, path)
    "small": ("small servlet (/info)", "/info"),
    "64k": ("64 KiB (/download)", "/download?bytes=65536"),
}


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
    return response.status, body


# ------------------------------------------------------------------------------------------
# wrk

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(target, size, seconds):
    _, port, prefix, header = TARGETS[target]
    url = f"http://127.0.0.1:{port}{prefix}{SIZES[size][1]}"
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if header:
        cmd += ["-H", header]
    cmd.append(url)
    load = loadavg()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    result = {"target": target, "size": size, "url": url, "loadavg1": load}
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


def direct_start(kind, index):
    """The backend's own start: spawn, poll the port every ms, then its first response."""
    port = free_port()
    env = dict(os.environ, PORTICO_PORT=str(port), PORTICO_TOKEN=TOKEN,
               PORTICO_PATH_BASE=f"/cold{kind}{index}", PORTICO_PARENT_PID=str(os.getpid()))
    if kind == "node":
        workdir = os.path.join(OUT, "cold", f"node{index}")
        os.makedirs(workdir, exist_ok=True)
        shutil.copy(os.environ["NODE_SERVER"], os.path.join(workdir, "server.js"))
        cmd = ["node", "server.js"]
        path = f"/coldnode{index}/"
    else:
        workdir = os.path.join(OUT, "cold", f"war{index}")
        os.makedirs(workdir, exist_ok=True)
        with zipfile.ZipFile(os.environ["SAMPLE_WAR"]) as war:
            war.extractall(workdir)
        cmd = ["java", "-cp", os.environ["RUNNER_CP"], "dev.portico.integration.runner.WarRunner", workdir]
        path = f"/coldwar{index}/info"
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = start + 120
        while not accepts(port):
            if proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"direct {kind} backend did not start")
            time.sleep(0.001)
        listening = time.perf_counter()
        status, _ = fetch(port, path, TOKEN_HEADER)
        answered = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"direct {kind} backend answered {status}")
        return {"listen_ms": (listening - start) * 1000, "first_response_ms": (answered - start) * 1000}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def portico_cold(kind, index):
    path = f"/cold{kind}{index}/" if kind == "node" else f"/cold{kind}{index}/info"
    start = time.perf_counter()
    status, body = fetch(FRONT, path, timeout=120)
    elapsed = (time.perf_counter() - start) * 1000
    if status != 200:
        raise RuntimeError(f"Portico cold {kind} answered {status}: {body[:200]!r}")
    return elapsed


def cold_start():
    results = {}
    kinds = ["node", "war"] if shutil.which("node") else ["war"]
    for kind in kinds:
        reps = []
        for i in range(1, COLD_REPS + 1):
            # alternate: the backend alone, then the same kind of app through Portico
            own = direct_start(kind, i)
            via = portico_cold(kind, i)
            rep = dict(own, portico_ms=via, overhead_vs_listen_ms=via - own["listen_ms"],
                       overhead_vs_first_response_ms=via - own["first_response_ms"])
            log(f"cold {kind} #{i}: backend listens after {own['listen_ms']:.0f} ms, first response "
                f"{own['first_response_ms']:.0f} ms; through Portico {via:.0f} ms")
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
    return f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])})"


def main():
    started = datetime.datetime.now().astimezone()
    load_start = loadavg()
    targets = [t for t in TARGETS if t in WANTED]
    not_measured = {}

    # correctness and availability before any load
    for t in list(targets):
        _, port, prefix, header = TARGETS[t]
        status, body = fetch(port, prefix + "/download?bytes=65536", header)
        if status != 200 or len(body) != 65536:
            snippet = body[:300].decode("utf-8", "replace")
            reason = "in-process hosting answers 500.30 (not available yet)" if "500.30" in snippet or (
                t == "inproc" and status == 500) else f"HTTP {status}, {len(body)} bytes: {snippet[:120]}"
            log(f"{t}: not measured: {reason}")
            not_measured[t] = reason
            targets.remove(t)
            continue
        expected = bytes(i % 251 for i in range(65536))
        if body != expected:
            raise SystemExit(f"{t}: 64 KiB body differs from the expected pattern")
    if "direct" not in targets:
        raise SystemExit("the direct backend is required (ratios are to direct)")

    log(f"warm-up: {WARMUP}s per target and size")
    for t in targets:
        for s in SIZES:
            wrk(t, s, WARMUP)

    runs = []
    for r in range(ROUNDS):
        order = targets[r % len(targets):] + targets[:r % len(targets)]  # rotate: alternate targets
        for s in SIZES:
            for t in order:
                result = wrk(t, s, DURATION)
                result["round"] = r + 1
                runs.append(result)
                log(f"round {r + 1} {s:5} {t:8} {result['rps']:9.0f} req/s  p50 {result['p50_ms']:.2f} ms  "
                    f"p99 {result['p99_ms']:.2f} ms  load {result['loadavg1']:.2f}"
                    + (f"  NON-2xx {result['non2xx']}" if result["non2xx"] else "")
                    + (f"  socket errors {result['socket_errors']}" if result["socket_errors"] else ""))

    table = {}
    for s in SIZES:
        for t in targets:
            mine = [x for x in runs if x["target"] == t and x["size"] == s]
            ratios = []
            for x in mine:
                d = next(y for y in runs if y["target"] == "direct" and y["size"] == s and y["round"] == x["round"])
                ratios.append(x["rps"] / d["rps"] if d["rps"] else None)
            table[f"{t}/{s}"] = {
                "target": t, "size": s,
                "rps": summary([x["rps"] for x in mine]),
                "p50_ms": summary([x["p50_ms"] for x in mine]),
                "p99_ms": summary([x["p99_ms"] for x in mine]),
                "ratio_to_direct": summary(ratios),
                "non2xx": sum(x["non2xx"] for x in mine),
                "socket_errors": sum(x["socket_errors"] for x in mine),
            }
    # in-process against plain Tomcat, per round
    if "inproc" in targets and "tomcat" in targets:
        for s in SIZES:
            ratios = []
            for r in range(1, ROUNDS + 1):
                i = next(x for x in runs if x["target"] == "inproc" and x["size"] == s and x["round"] == r)
                p = next(x for x in runs if x["target"] == "tomcat" and x["size"] == s and x["round"] == r)
                ratios.append(i["rps"] / p["rps"])
            table[f"inproc/{s}"]["ratio_to_plain_tomcat"] = summary(ratios)

    cold = cold_start() if COLD_REPS > 0 else {}
    load_end = loadavg()

    # noise: spread of the direct backend's own throughput across rounds
    noise = {}
    for s in SIZES:
        d = table[f"direct/{s}"]["rps"]
        noise[s] = (d["max"] - d["min"]) / d["median"] if d and d["median"] else None

    results = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg1_start": load_start, "loadavg1_end": load_end,
                    "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0],
                    "wrk": f"-t{THREADS} -c{CONNECTIONS} -d{DURATION}s --latency, warm-up {WARMUP}s, {ROUNDS} rounds",
                    "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()},
        "targets": {t: TARGETS[t][0] for t in TARGETS},
        "not_measured": not_measured,
        "table": table,
        "direct_spread": noise,
        "cold_start": cold,
        "runs": runs,
    }
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    md = markdown(results, targets)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(md)
    print(md)
    if os.environ.get("BENCH_NO_CHART", "0") != "1":
        with open(CHART, "w") as f:
            f.write(svg(results, targets))
        log(f"chart: {CHART}")


def markdown(results, targets):
    lines = [f"Run {results['started']} · {results['machine']['cpus']} CPUs · wrk {results['machine']['wrk']} · "
             f"load average {results['machine']['loadavg1_start']:.2f} → {results['machine']['loadavg1_end']:.2f} · "
             f"{results['machine']['java']} · {results['machine']['nginx']}", ""]
    lines.append("Median (min–max) over the rounds; ratio = this target's req/s ÷ direct's req/s in the same round.")
    lines.append("")
    lines.append("| response | target | req/s | ratio to direct | p50 ms | p99 ms | errors |")
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    for s in SIZES:
        for t in TARGETS:
            label = TARGETS[t][0]
            if t in results["not_measured"]:
                lines.append(f"| {SIZES[s][0]} | {label} | not measured | — | — | — | {results['not_measured'][t]} |")
                continue
            if t not in targets:
                continue
            row = results["table"][f"{t}/{s}"]
            ratio = row["ratio_to_direct"]
            ratio_text = "1.00" if t == "direct" else (
                f"{ratio['median']:.2f} ({ratio['min']:.2f}–{ratio['max']:.2f})")
            if "ratio_to_plain_tomcat" in row:
                r = row["ratio_to_plain_tomcat"]
                ratio_text += f"; {r['median']:.2f}× plain Tomcat"
            errors = row["non2xx"] + row["socket_errors"]
            lines.append(f"| {SIZES[s][0]} | {label} | {fmt_range(row['rps'])} | {ratio_text} | "
                         f"{fmt_range(row['p50_ms'], 2)} | {fmt_range(row['p99_ms'], 2)} | {errors} |")
    spread = results["direct_spread"]
    lines.append("")
    lines.append("Noise: the direct backend's own req/s varied by "
                 + ", ".join(f"{(spread[s] or 0) * 100:.0f}% ({s})" for s in SIZES)
                 + " of its median between rounds.")
    if results["cold_start"]:
        lines += ["", "Cold start (first request to an app whose backend is not running), ms, median (min–max):", "",
                  "| backend | backend alone: listening | backend alone: first response | through Portico: first response | overhead vs first response | overhead vs listening |",
                  "|---|---:|---:|---:|---:|---:|"]
        names = {"node": "Node (integration-tests/backends/node/server.js)", "war": "sample WAR under the WAR runner"}
        for kind, c in results["cold_start"].items():
            lines.append(f"| {names[kind]} | {fmt_range(c['listen_ms'])} | {fmt_range(c['first_response_ms'])} | "
                         f"{fmt_range(c['portico_ms'])} | {fmt_range(c['overhead_vs_first_response_ms'])} | "
                         f"{fmt_range(c['overhead_vs_listen_ms'])} |")
    return "\n".join(lines) + "\n"


def svg(results, targets):
    """Two panels drawn by hand: throughput ratio to direct, and p99 latency; whiskers = min–max."""
    colors = {"direct": "#4d4d4d", "portico": "#d95f02", "nginx": "#1b9e77", "inproc": "#7570b3", "tomcat": "#66a61e"}
    width, height = 900, 380
    panel_w, top, bottom = 380, 60, 300
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">'
           f'Portico benchmark ({results["machine"]["wrk"]}, {results["machine"]["cpus"]} CPUs, loopback)</text>']

    def panel(x0, title, key, maximum, fmt):
        out.append(f'<text x="{x0 + panel_w / 2}" y="{top - 12}" text-anchor="middle" font-weight="bold">{title}</text>')
        out.append(f'<line x1="{x0}" y1="{bottom}" x2="{x0 + panel_w}" y2="{bottom}" stroke="black"/>')
        out.append(f'<line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="black"/>')
        for k in range(5):
            v = maximum * k / 4
            y = bottom - (bottom - top) * k / 4
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + panel_w}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{fmt(v)}</text>')
        group_w = panel_w / len(SIZES)
        bar_w = (group_w - 20) / max(1, len(targets))
        for gi, s in enumerate(SIZES):
            gx = x0 + gi * group_w + 10
            out.append(f'<text x="{gx + (group_w - 20) / 2:.1f}" y="{bottom + 16}" text-anchor="middle">'
                       f'{SIZES[s][0]}</text>')
            for ti, t in enumerate(targets):
                stat = results["table"][f"{t}/{s}"][key]
                if stat is None:
                    continue
                bx = gx + ti * bar_w
                h = (bottom - top) * min(stat["median"], maximum) / maximum
                out.append(f'<rect x="{bx + 1:.1f}" y="{bottom - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                           f'fill="{colors[t]}"><title>{TARGETS[t][0]}: {fmt(stat["median"])}</title></rect>')
                lo = bottom - (bottom - top) * min(stat["min"], maximum) / maximum
                hi = bottom - (bottom - top) * min(stat["max"], maximum) / maximum
                cx = bx + bar_w / 2
                out.append(f'<line x1="{cx:.1f}" y1="{lo:.1f}" x2="{cx:.1f}" y2="{hi:.1f}" stroke="black"/>')
                out.append(f'<text x="{cx:.1f}" y="{bottom - h - 4:.1f}" text-anchor="middle" font-size="9">'
                           f'{fmt(stat["median"])}</text>')

    ratio_max = max(1.1, max(results["table"][f"{t}/{s}"]["ratio_to_direct"]["max"]
                             for t in targets for s in SIZES) * 1.1)
    panel(60, "throughput ÷ backend direct (higher is better)", "ratio_to_direct", ratio_max, lambda v: f"{v:.2f}")
    p99_max = max(results["table"][f"{t}/{s}"]["p99_ms"]["max"] for t in targets for s in SIZES) * 1.1
    panel(500, "p99 latency, ms (lower is better)", "p99_ms", p99_max, lambda v: f"{v:.1f}")
    lx = 60
    for t in targets:
        out.append(f'<rect x="{lx}" y="{height - 40}" width="12" height="12" fill="{colors[t]}"/>')
        out.append(f'<text x="{lx + 16}" y="{height - 30}">{TARGETS[t][0]}</text>')
        lx += 18 + 7 * len(TARGETS[t][0])
    for t, why in results["not_measured"].items():
        out.append(f'<text x="60" y="{height - 10}" font-size="10" fill="#666">{TARGETS[t][0]}: not measured '
                   f'({why})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
