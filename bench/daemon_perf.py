#!/usr/bin/env python3
"""Performance figures of `ssbguard run` (issue 5), measured against the release binary.

Run through bench/daemon_perf.sh (which builds the binary first). Standard library only.
Writes bench/daemon_perf.md (the report) and out/bench-daemon/results.json (raw numbers).

What is measured, each on a recording rendered by `ssbguard synth` from
bench/daemon_perf/*.toml (a 30 kHz cell, jammer episodes whose onsets are the SigMF
ground-truth annotations):

1. Throughput: `run` on the 30.72 Msps file with `pace = "lossless"` (as fast as the
   pipeline goes, nothing dropped), classic and DT-DDNN, against two floors measured in
   the same run: the daemon's own file source in `pace = "fast"` mode (read + ci16->cf32 +
   pooled blocks + channel, blocks the pipeline cannot take are dropped) and a raw read of
   the data file (page cache, no conversion).
2. CPU of one core, paced at real time (30.72 Msps), from /proc/PID/stat and per thread.
3. Alert latency from each jammer onset: the webhook receiver's arrival time minus the wall
   time at which the paced source released the onset sample.
4. Drops at 61.44 Msps paced: ssbguard_capture_dropped_samples_total over 60 s.
5. RSS every 10 s over a 10-minute paced run (DT-DDNN), with CPU and latency over it too.
"""

import argparse
import http.server
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "bench-daemon"
TICK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*cmd):
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return r.stdout.rstrip() if r.returncode == 0 else ""


# --- recordings -------------------------------------------------------------------------


class Recording:
    def __init__(self, name, binary):
        self.scenario = ROOT / "bench" / "daemon_perf" / f"{name}.toml"
        self.stem = OUT / name
        meta = self.stem.with_suffix(".sigmf-meta")
        data = self.stem.with_suffix(".sigmf-data")
        if not (meta.exists() and data.exists()) or meta.stat().st_mtime < self.scenario.stat().st_mtime:
            log(f"rendering {name}")
            subprocess.run(
                [binary, "synth", "--scenario", str(self.scenario), "--out", str(self.stem)],
                cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
            )
        m = json.loads(meta.read_text())
        self.data = data
        self.fs = float(m["global"]["core:sample_rate"])
        self.total = data.stat().st_size // bytes_per_sample(m["global"]["core:datatype"])
        self.episodes = sorted(
            (a["core:sample_start"], a["core:sample_start"] + a["core:sample_count"], a.get("ssbguard:type", "?"))
            for a in m["annotations"]
            if a.get("core:label") == "jammer"
        )


def bytes_per_sample(dt):
    return {"cf32": 8, "ci16": 4, "ci8": 2, "cu8": 2}[dt.split("_")[0]]


# --- the daemon -------------------------------------------------------------------------


class Daemon:
    def __init__(self, binary, name, source, detector="classic", webhook=None, extra="", nice=0):
        self.port = free_port()
        self.name = name
        cfg = OUT / f"{name}.toml"
        text = f"{source}\n[http]\nbind = \"127.0.0.1:{self.port}\"\n"
        text += f"[receiver]\ndetector = \"{detector}\"\nmodels_dir = \"{ROOT / 'models'}\"\n"
        text += "[log]\nformat = \"json\"\n" + extra
        if webhook:
            text += f"[[sinks.webhook]]\nurl = \"{webhook}\"\nqueue = 4096\n"
        cfg.write_text(text)
        self.log = open(OUT / f"{name}.log", "w")
        cmd = ([ "nice", "-n", str(nice)] if nice else []) + [binary, "run", "--config", str(cfg)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.pid = self.proc.pid
        deadline = time.time() + 60
        while True:
            try:
                self.get("/healthz")
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"{name}: daemon did not start, see {self.log.name}")
                time.sleep(0.05)

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.read().decode()

    def status(self):
        return json.loads(self.get("/api/v1/status"))

    def metrics(self):
        out = {}
        for line in self.get("/metrics").splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def cpu_s(self):
        """utime + stime of the whole process, s."""
        f = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / TICK

    def threads_cpu_s(self):
        out = {}
        for t in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                comm = (t / "comm").read_text().strip()
                f = (t / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[comm] = out.get(comm, 0.0) + (int(f[11]) + int(f[12])) / TICK
        return out

    def rss_kib(self):
        v = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            k, _, rest = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                v[k] = int(rest.split()[0])
        return v

    def stop(self):
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.log.close()
        return code


def file_source(rec, pace, looping=False):
    return (f"[source]\ntype = \"file\"\npath = \"{rec.stem}\"\npace = \"{pace}\"\n"
            f"loop = {'true' if looping else 'false'}\n")


# --- webhook receiver -------------------------------------------------------------------


class Hook:
    def __init__(self):
        self.alerts = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                t = time.time()
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.alerts.append((t, json.loads(body)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self):
        a, self.alerts = self.alerts, []
        return a

    def close(self):
        self.server.shutdown()


# --- measurements -----------------------------------------------------------------------


def wait_finished(d, timeout):
    end = time.time() + timeout
    while time.time() < end:
        st = d.status()
        if st["pipeline"]["state"] != "running":
            return st
        time.sleep(0.05)
    raise RuntimeError(f"{d.name}: not finished within {timeout} s")


def throughput(binary, rec, detector, i):
    d = Daemon(binary, f"tput-{detector}-{i}", file_source(rec, "lossless"), detector)
    c0 = d.cpu_s()
    st = wait_finished(d, 600)
    cpu = d.cpu_s() - c0
    d.stop()
    assert st["pipeline"]["state"] == "finished", st["pipeline"]
    s = st["samples"]
    assert s["processed"] == rec.total and st["drops"]["queue_full"] == 0, (s, st["drops"])
    wall = st["pipeline"]["finished_uptime_s"] - st["stream"]["first"]["uptime_s"]
    return {"wall_s": wall, "msps": rec.total / wall / 1e6, "busy_s": st["pipeline"]["busy_s"],
            "cpu_s": cpu}


def read_floor_daemon(binary, rec, i):
    """The daemon's file source as fast as it reads (pace = "fast"): captured samples/s."""
    d = Daemon(binary, f"floor-{i}", file_source(rec, "fast"))
    polls = []
    end = time.time() + 120
    while time.time() < end:
        st = d.status()
        polls.append((st["uptime_s"], st["samples"]["captured"], st["source"]["state"], st["stream"]["first"]))
        if st["source"]["state"] != "streaming" and polls[-1][3] is not None:
            break
        time.sleep(0.02)
    d.stop()
    stream = next(p[3] for p in polls if p[3] is not None)
    streaming = [p for p in polls if p[2] == "streaming"]
    up, captured = streaming[-1][0], streaming[-1][1]
    return {"msps": captured / (up - stream["uptime_s"]) / 1e6, "polls": len(streaming)}


def read_floor_raw(rec):
    buf = bytearray(4 << 20)
    n = 0
    t = time.perf_counter()
    with open(rec.data, "rb", buffering=0) as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            n += k
    dt = time.perf_counter() - t
    return {"msps": n / 4 / dt / 1e6, "gb_per_s": n / dt / 1e9}


def arrival(anchors, x, fs):
    """Wall time at which absolute sample `x` reached the capture thread, from the block
    stamps polled from /api/v1/status: the latest stamp ending at or before `x` (the paced
    source releases samples at `fs` from there), else the earliest one after it."""
    before = [a for a in anchors if a["first_sample"] + a["samples"] <= x]
    a = before[-1] if before else anchors[0]
    return a["unix_s"] + (x - a["first_sample"] - a["samples"]) / fs


def pacing_drift_ms(anchors, rec):
    """How far the stamps stray from one steady real-time clock (a paced source that fell
    more than 1 s behind restarts its clock): max |wall - (first wall + samples / fs)|."""
    a0 = anchors[0]
    e0 = a0["first_sample"] + a0["samples"]
    out = 0.0
    for a in anchors:
        e = a["first_sample"] + a["samples"]
        released = (e - e0) - (e // (rec.total + 1) - e0 // (rec.total + 1))  # minus loop gaps
        out = max(out, abs(a["unix_s"] - a0["unix_s"] - released / rec.fs))
    return out * 1e3


def latencies(rec, anchors, alerts, captured):
    """Matches raised alerts to the onsets of the episodes that ended before `captured`
    samples had been delivered. Returns per-episode rows and false alarms."""
    fs, n = rec.fs, rec.total
    passes = captured // n + 1
    rows = []
    used = set()
    raised = [(t, a) for t, a in alerts if a.get("state") == "raised"]
    # A looping file leaves a one-sample gap per pass.
    spans = [(p * (n + 1) + s0 - 0.001 * fs, p * (n + 1) + s1, p * n + s1 <= captured, s0, kind)
             for p in range(passes) for (s0, s1, kind) in rec.episodes]
    for lo, a1, complete, s0, kind in spans:
        if complete:
            a0 = int(lo + 0.001 * fs)
            # From the onset to the end of the episode (+ one SSB window before the onset).
            hit = next(((k, t, a) for k, (t, a) in enumerate(raised)
                        if k not in used and lo <= a["sample"] < a1), None)
            onset_wall = arrival(anchors, a0, fs)
            row = {"type": kind, "onset_sample": a0}
            if hit:
                k, t, a = hit
                used.add(k)
                row.update({"latency_ms": (t - onset_wall) * 1e3,
                            "stream_delay_ms": (a["sample"] - a0) / fs * 1e3})
            rows.append(row)
    # Raised outside every episode (an episode still on at the end is not a false alarm).
    false_alarms = sum(1 for _, a in raised
                       if not any(lo <= a["sample"] < hi for lo, hi, *_ in spans))
    return rows, false_alarms


def drops_of(m):
    return {k: m.get(f'ssbguard_capture_dropped_samples_total{{reason="{k}"}}', 0.0)
            for k in ("queue_full", "overflow", "bad_data")}


def paced(binary, rec, detector, name, duration_s, hook, rss_every=None, warmup_s=10.0, extra="",
          nice=0):
    """A paced, looping run: CPU over [warmup, duration], RSS samples, drops, latency."""
    d = Daemon(binary, name, file_source(rec, "realtime", looping=True), detector, hook.url, extra,
               nice)
    hook.take()
    t_start = time.time()
    anchors = []

    def stamp():
        a = d.status()["stream"]["last"]
        if a and (not anchors or a != anchors[-1]):
            anchors.append(a)

    while time.time() - t_start < warmup_s:
        stamp()
        time.sleep(0.5)
    c0, th0, t0 = d.cpu_s(), d.threads_cpu_s(), time.time()
    m0 = d.metrics()
    rss = []
    next_rss = t0
    while time.time() - t_start < duration_s:
        if rss_every and time.time() >= next_rss:
            rss.append((round(time.time() - t_start, 1), d.rss_kib()))
            next_rss += rss_every
        stamp()
        time.sleep(0.5)
    c1, th1, t1 = d.cpu_s(), d.threads_cpu_s(), time.time()
    st = d.status()
    m = d.metrics()
    rss_end = d.rss_kib()
    stamp()
    time.sleep(0.5)  # let the last webhook deliveries land
    d.stop()
    alerts = hook.take()
    samples_done = st["samples"]["captured"]
    rows, fa = latencies(rec, anchors, alerts, samples_done)
    drops = drops_of(m)
    d0 = drops_of(m0)
    lat_count = m.get("ssbguard_pipeline_latency_seconds_count", 0.0)
    return {
        "detector": detector,
        "msps": rec.fs / 1e6,
        "cpu_window_s": t1 - t0,
        "cpu_pct": (c1 - c0) / (t1 - t0) * 100,
        "threads_pct": {k: (th1.get(k, 0) - th0.get(k, 0)) / (t1 - t0) * 100 for k in th1
                        if th1.get(k, 0) - th0.get(k, 0) > 0},
        "rss": rss,
        "rss_end_kib": rss_end,
        "captured": samples_done,
        "processed": st["samples"]["processed"],
        "realtime_s": samples_done / rec.fs,
        "wall_s": t1 - t_start,
        "drops": drops,
        "drops_window": {k: drops[k] - d0[k] for k in drops},
        "busy_pct": (m.get("ssbguard_pipeline_busy_seconds_total", 0) - m0.get("ssbguard_pipeline_busy_seconds_total", 0)) / (t1 - t0) * 100,
        "extra": extra.strip().replace("\n", " ") + (f" nice -n {nice}" if nice else ""),
        "pacing_drift_ms": pacing_drift_ms(anchors, rec),
        "stamps": anchors,
        "alerts": alerts,
        "discontinuities": st["samples"]["discontinuities"],
        "episodes": rows,
        "false_alarms": fa,
        "pipeline_latency_mean_ms": m.get("ssbguard_pipeline_latency_seconds_sum", 0) / max(lat_count, 1) * 1e3,
        "busy_s": st["pipeline"]["busy_s"],
    }


# --- report -----------------------------------------------------------------------------


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def lat_summary(run):
    lat = [r["latency_ms"] for r in run["episodes"] if "latency_ms" in r]
    delay = [r["stream_delay_ms"] for r in run["episodes"] if "stream_delay_ms" in r]
    return {"episodes": len(run["episodes"]), "detected": len(lat),
            "median_ms": pct(lat, 0.5), "p90_ms": pct(lat, 0.9), "max_ms": max(lat) if lat else float("nan"),
            "stream_median_ms": pct(delay, 0.5), "false_alarms": run["false_alarms"]}


def slope_kib_per_min(points):
    if len(points) < 3:
        return float("nan")
    xs = [p[0] / 60 for p in points]
    ys = [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def ok(b):
    return "**met**" if b else "**missed**"


def report(R, path):
    env = R["env"]
    L = []
    w = L.append
    w("# `ssbguard run` performance (issue 5)")
    w("")
    w(f"Measured by `bench/daemon_perf.sh` on {env['date']}. Machine: {env['cpu']}, "
      f"{env['cores']} cores **shared with other builds and tests (noisy)**, "
      f"{env['mem_gib']:.0f} GiB RAM, load average {env['load_start']} at start and "
      f"{env.get('load_end', '?')} at the end. Commit `{env['commit']}`"
      f"{' plus uncommitted changes in ' + env['dirty'] if env['dirty'] else ''}; binary "
      f"`{env['binary']}` built {env['binary_built']} ({env['version']}, {env['rustc']}).")
    w("")
    w("Recordings (rendered by `ssbguard synth`, ci16_le): "
      + "; ".join(f"`bench/daemon_perf/{k}.toml` ({v['seconds']:.0f} s at {v['msps']:.2f} Msps, "
                  f"{len(v['episodes'])} jammer episodes)" for k, v in R["recordings"].items()) + ".")
    w("")
    T = R["throughput"]
    fl = R["floor"]
    floor_d = statistics.median(x["msps"] for x in fl["daemon_fast"])
    floor_r = statistics.median(x["msps"] for x in fl["raw"])
    w("## Summary")
    w("")
    w("| goal | measured | |")
    w("|---|---|---|")
    for det, runs in T.items():
        m = statistics.median(x["msps"] for x in runs)
        # Each repetition measures its floors and both detectors back to back: the ratio
        # is taken per repetition (the machine's load changes between them), then the median.
        rd = statistics.median(x["msps"] / f["msps"] for x, f in zip(runs, fl["daemon_fast"]))
        rr = statistics.median(x["msps"] / f["msps"] for x, f in zip(runs, fl["raw"]))
        w(f"| throughput ≥ 0.5 × plain read ({det}) | {m:.0f} Msps ({m / 30.72:.1f} × real time) = "
          f"**{rd:.2f}** × the daemon's own file read (median {floor_d:.0f} Msps), {rr:.2f} × a raw "
          f"page-cache read (median {floor_r:.0f} Msps); median of {len(runs)} paired runs | {ok(rd >= 0.5)} |")
    for r in R["paced"]:
        if r["msps"] < 40 and r["name"] != "long":
            w(f"| CPU < 10 % of one core, 30.72 Msps paced ({r['detector']}) | **{r['cpu_pct']:.1f} %** "
              f"over {r['cpu_window_s']:.0f} s | {ok(r['cpu_pct'] < 10)} |")
    if "long" in R:
        lg = R["long"]
        rs = [p[1]["VmRSS"] / 1024 for p in lg["rss"]]
        steady = rs[len(rs) // 5:]
        sl = slope_kib_per_min([(p[0], p[1]["VmRSS"]) for p in lg["rss"][len(rs) // 5:]])
        flat = max(steady) - min(steady) < 2
        w(f"| steady RSS < 64 MiB, flat over 10 min ({lg['detector']}) | **{statistics.median(steady):.1f} MiB** "
          f"(range {min(steady):.1f}–{max(steady):.1f} MiB after the first 2 min, slope {sl:+.1f} KiB/min, "
          f"peak VmHWM {lg['rss_end_kib']['VmHWM'] / 1024:.1f} MiB) | "
          f"{ok(statistics.median(steady) < 64)} / {'flat' if flat else '**not flat**'} |")
    for r in R["paced"] + ([R["long"]] if "long" in R else []):
        s = lat_summary(r)
        if s["episodes"] and r["msps"] < 40:
            w(f"| alert latency median ≤ 100 ms ({r['detector']}, {r['name']}) | **{s['median_ms']:.1f} ms** "
              f"(p90 {s['p90_ms']:.1f}, max {s['max_ms']:.1f}; {s['detected']}/{s['episodes']} episodes) "
              f"| {ok(s['median_ms'] <= 100)} |")
    for r in R["paced"]:
        if r["msps"] > 40:
            dr = sum(r["drops"].values())
            dw = sum(r["drops_window"].values())
            cfg = f", `{r['extra']}`" if r["extra"] else ""
            w(f"| zero drops at 61.44 Msps paced ({r['detector']}{cfg}) | **{dw:.0f}** samples dropped in "
              f"the {r['cpu_window_s']:.0f} s after a {r['wall_s'] - r['cpu_window_s']:.0f} s warm-up; "
              f"{dr:.0f} since start ({', '.join(f'{k} {v:.0f}' for k, v in r['drops'].items())}); "
              f"RSS {r['rss_end_kib']['VmRSS'] / 1024:.0f} MiB | {ok(dw == 0)}{'' if dr == 0 else ' (startup: missed)'} |")
    w("")
    w("## Throughput (`pace = \"lossless\"`, 30.72 Msps file, end to end)")
    w("")
    w("From the first block the pipeline received to the pipeline thread finishing the file "
      "(`/api/v1/status` `stream.first.uptime_s` and `pipeline.finished_uptime_s`); every sample "
      "processed, none dropped. `busy` is the pipeline thread's time inside `Pipeline::push` "
      "(`ssbguard_pipeline_busy_seconds_total`); `cpu` the whole process (all threads).")
    w("")
    w("| detector | run | wall s | Msps | × real time | ÷ daemon read floor | ÷ raw read floor | busy s | process CPU s |")
    w("|---|---|---|---|---|---|---|---|---|")
    for det, runs in T.items():
        for i, x in enumerate(runs):
            w(f"| {det} | {i + 1} | {x['wall_s']:.2f} | {x['msps']:.1f} | {x['msps'] / 30.72:.2f} | "
              f"{x['msps'] / fl['daemon_fast'][i]['msps']:.2f} | {x['msps'] / fl['raw'][i]['msps']:.3f} | "
              f"{x['busy_s']:.2f} | {x['cpu_s']:.2f} |")
    w("")
    w("Floors, same file, same script run: the daemon's file source in `pace = \"fast\"` "
      "(read + ci16→cf32 + pooled blocks + channel; blocks the pipeline cannot take are "
      "dropped, so this is the source's speed): "
      + ", ".join(f"{x['msps']:.0f}" for x in fl["daemon_fast"])
      + " Msps; a raw read of the data file from the page cache (4 MiB `readinto`, no conversion): "
      + ", ".join(f"{x['msps']:.0f}" for x in fl["raw"]) + " Msps (÷ 4 bytes per sample).")
    w("")
    w("## Paced runs")
    w("")
    w("Looping file source at real time. CPU = Δ(utime + stime) of the process from "
      "`/proc/PID/stat` over the window after a warm-up, as % of one core; per thread from "
      "`/proc/PID/task/*/stat`. Alert latency = arrival time of the alert at a webhook "
      "receiver (this script, loopback) − wall time at which the jammer's onset sample reached "
      "the capture thread (from the block stamps `stream.last` polled every 0.5 s from "
      "`/api/v1/status`: the latest block ending before the onset + the samples in between / "
      "fs); \"in stream\" = the raising decision's window start − onset, in signal time. "
      "Only episodes that ended before the run's end count. Pacing drift = how far the block "
      "stamps stray from one steady real-time clock (a paced file source more than 1 s late "
      "restarts its clock: the capture thread itself was starved).")
    w("")
    w("`busy` = the pipeline thread's time inside `Pipeline::push` over the same window "
      "(the rest of `ssbguard-dsp` is the daemon's own work per decision: metrics, alert "
      "machine, publishing). Drops: since start / in the window.")
    w("")
    w("| run | detector | Msps | window s | CPU % | busy % | per thread % | drops | discontinuities | RSS MiB | latency median / p90 / max ms | in stream median ms | detected | false alarms | pipeline latency mean ms | pacing drift ms |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in R["paced"] + ([R["long"]] if "long" in R else []):
        s = lat_summary(r)
        th = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["threads_pct"].items(), key=lambda kv: -kv[1]) if v >= 0.05)
        name = r["name"] + (f" (`{r['extra']}`)" if r["extra"] else "")
        w(f"| {name} | {r['detector']} | {r['msps']:.2f} | {r['cpu_window_s']:.0f} | {r['cpu_pct']:.1f} | "
          f"{r['busy_pct']:.1f} | {th} | "
          f"{sum(r['drops'].values()):.0f} / {sum(r['drops_window'].values()):.0f} | {r['discontinuities']} | "
          f"{r['rss_end_kib']['VmRSS'] / 1024:.1f} | "
          f"{s['median_ms']:.1f} / {s['p90_ms']:.1f} / {s['max_ms']:.1f} | {s['stream_median_ms']:.1f} | "
          f"{s['detected']}/{s['episodes']} | {s['false_alarms']} | {r['pipeline_latency_mean_ms']:.1f} | "
          f"{r['pacing_drift_ms']:.1f} |")
    w("")
    if "long" in R:
        lg = R["long"]
        w(f"## RSS over the {lg['wall_s'] / 60:.0f}-minute paced run ({lg['detector']}, 30.72 Msps)")
        w("")
        w("VmRSS from `/proc/PID/status` every 10 s (MiB): "
          + " ".join(f"{p[1]['VmRSS'] / 1024:.1f}" for p in lg["rss"]) + ".")
        w("")
        by_type = {}
        for e in lg["episodes"]:
            by_type.setdefault(e["type"], []).append(e.get("latency_ms"))
        w("Alert latency by jammer type over that run: " + "; ".join(
            f"{k}: median {pct([x for x in v if x is not None], 0.5):.1f} ms, "
            f"{sum(x is not None for x in v)}/{len(v)} detected" for k, v in sorted(by_type.items())) + ".")
        w("")
    analysis = ROOT / "bench" / "daemon_perf" / "analysis.md"
    if analysis.exists():
        L.append(analysis.read_text().rstrip())
    path.write_text("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/ssbguard")
    ap.add_argument("--quick", action="store_true", help="short runs (to check the script)")
    ap.add_argument("--report", default=str(ROOT / "bench" / "daemon_perf.md"))
    ap.add_argument("--render", action="store_true",
                    help="only rewrite the report from out/bench-daemon/results.json")
    ap.add_argument("--detectors", default="dtddnn,classic",
                    help="detectors to measure; the first one also does the 10-minute run")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.render:
        report(json.loads((OUT / "results.json").read_text()), Path(args.report))
        return
    b = os.path.realpath(ROOT / args.binary)
    q = args.quick
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    env = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "mem_gib": mem / 2**20,
        "load_start": " ".join(open("/proc/loadavg").read().split()[:3]),
        "commit": sh("git", "rev-parse", "--short=12", "HEAD") or "unknown",
        "dirty": ", ".join(l[3:] for l in sh("git", "status", "--porcelain", "--untracked-files=no").splitlines()),
        "binary": args.binary if not os.path.isabs(args.binary) else os.path.relpath(args.binary, ROOT),
        "binary_built": datetime.fromtimestamp(os.path.getmtime(b), timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": subprocess.run([b, "--version"], capture_output=True, text=True).stdout.strip(),
        "rustc": sh("rustc", "--version"),
    }
    R = {"env": env, "recordings": {}}
    r30 = Recording("site-30m72", b)
    r61 = Recording("site-61m44", b)
    for name, r in (("site-30m72", r30), ("site-61m44", r61)):
        R["recordings"][name] = {"seconds": r.total / r.fs, "msps": r.fs / 1e6, "episodes": r.episodes}

    reps = 1 if q else 5
    log("throughput and floors")
    read_floor_raw(r30)  # warm the page cache
    R["floor"] = {"raw": [], "daemon_fast": []}
    dets = args.detectors.split(",")
    R["throughput"] = {d: [] for d in dets}
    for i in range(reps):
        R["floor"]["raw"].append(read_floor_raw(r30))
        R["floor"]["daemon_fast"].append(read_floor_daemon(b, r30, i))
        for det in dets:
            R["throughput"][det].append(throughput(b, r30, det, i))
            log(det, f"{R['throughput'][det][-1]['msps']:.1f} Msps")
    log("floors", R["floor"])

    hook = Hook()
    R["paced"] = []
    # As deploy/ssbguard.service runs it (Nice=-10), with the default queue (128 blocks,
    # allocated only while used).
    deep = ""
    plan = [("cpu-30", r30, d, 30 if q else 70, "", 0) for d in dets]
    plan += [("drops-61", r61, d, 20 if q else 70, "", 0) for d in dets]
    plan += [("drops-61", r61, d, 20 if q else 70, deep, -10) for d in dets]
    for name, rec, det, dur, extra, nice in plan:
        log(f"paced {name} {det} {extra.strip()} nice {nice}")
        tag = ("-deep" if extra else "") + ("-nice" if nice else "")
        run = paced(b, rec, det, f"{name}-{det}{tag}", dur, hook, extra=extra, nice=nice)
        run["name"] = name
        R["paced"].append(run)
        log(f"cpu {run['cpu_pct']:.1f} %, drops {run['drops']}, latency {lat_summary(run)}")
    log("long paced run")
    lg = paced(b, r30, dets[0], f"long-{dets[0]}", 60 if q else 610, hook, rss_every=10)
    lg["name"] = "long"
    R["long"] = lg
    log(f"long: cpu {lg['cpu_pct']:.1f} %, rss {lg['rss_end_kib']}, latency {lat_summary(lg)}")
    hook.close()
    env["load_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
    (OUT / "results.json").write_text(json.dumps(R, indent=1))
    report(R, Path(args.report))
    log(f"wrote {args.report}")


if __name__ == "__main__":
    main()
