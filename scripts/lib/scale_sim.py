"""Driver of scripts/simulate-scale: N Lambda instances of the real function binary, each with its
own Lambda Runtime API, cold-starting in waves against a throttling SSM (ssm_throttle.py).

Each instance is target/release/claim-mapper-lambda, started with the environment Lambda gives a
function (AWS_LAMBDA_RUNTIME_API pointing at its own port here) plus the mapping settings: the
parameter (whose mapping carries the claim `mapping_source: parameter`), a fallback file that
differs (`mapping_source: fallback`), a refresh interval, and AWS_ENDPOINT_URL = the proxy. The
driver serves every instance's Runtime API (asyncio, one listening port per instance): GET
/2018-06-01/runtime/invocation/next hands out the fixture event once per event interval, POST
.../response and .../error are recorded, POST /2018-06-01/runtime/init/error marks a failed
init. From the marker claim in each response it knows which mapping served it.

Writes target/scale/<N>.json and prints a markdown row; see scripts/simulate-scale for the
arguments and for what is real and what is scaled down.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ssm_throttle import HttpError, raise_nofile, read_http_message  # noqa: E402

API = "/2018-06-01/runtime"
FUNCTION = "claim-mapper-scale"
ARN = f"arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION}"
MARK_PARAMETER = b'"mapping_source":"parameter"'
MARK_FALLBACK = b'"mapping_source":"fallback"'

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the driver dies, however it dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class Instance:
    def __init__(self, index: int, interval: float):
        self.index = index
        self.interval = interval
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self.exec_at: float | None = None
        self.first_next: float | None = None
        self.last_event_at: float | None = None
        self.init_error: str | None = None
        self.exit_code: int | None = None
        self.exited_at: float | None = None
        self.responses: list[tuple[float, str, float]] = []  # (t, source, latency)
        self.errors = 0
        self.sent: dict[str, float] = {}
        self.stopping = False

    @property
    def first_source(self):
        return self.responses[0][1] if self.responses else None


class Driver:
    def __init__(self, args):
        self.args = args
        self.event = Path(args.event).read_bytes()
        self.instances = [Instance(i, args.event_interval) for i in range(args.instances)]
        self.t0 = 0.0
        self.end = 0.0
        self.rss_peak_kib = 0
        self.rss_samples = 0

    # -- Runtime API -------------------------------------------------------------------------

    async def runtime_api(self, inst: Instance, reader, writer) -> None:
        try:
            while True:
                msg = await read_http_message(reader)
                if msg is None:
                    return
                start, _headers, body = msg
                method, path = start.split(" ")[:2]
                now = time.monotonic()
                if method == "GET" and path == f"{API}/invocation/next":
                    if inst.first_next is None:
                        inst.first_next = now
                    due = (inst.last_event_at + inst.interval) if inst.last_event_at else now
                    if due > now:
                        await asyncio.sleep(due - now)
                    if time.monotonic() >= self.end:
                        # The run is over: hold the poll until the process is killed.
                        await asyncio.sleep(3600)
                        return
                    rid = str(uuid.uuid4())
                    inst.last_event_at = time.monotonic()
                    inst.sent[rid] = inst.last_event_at
                    deadline = int(time.time() * 1000) + 5000
                    head = (
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        f"Lambda-Runtime-Aws-Request-Id: {rid}\r\n"
                        f"Lambda-Runtime-Deadline-Ms: {deadline}\r\n"
                        f"Lambda-Runtime-Invoked-Function-Arn: {ARN}\r\n"
                        f"Lambda-Runtime-Trace-Id: Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0\r\n"
                        f"Content-Length: {len(self.event)}\r\n\r\n"
                    )
                    writer.write(head.encode() + self.event)
                elif method == "POST" and path.startswith(f"{API}/invocation/"):
                    parts = path.split("/")
                    rid, kind = parts[-2], parts[-1]
                    sent = inst.sent.pop(rid, now)
                    if kind == "response":
                        if MARK_PARAMETER in body:
                            source = "parameter"
                        elif MARK_FALLBACK in body:
                            source = "fallback"
                        else:
                            source = "unmarked"
                        inst.responses.append((now, source, now - sent))
                    else:
                        inst.errors += 1
                    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")
                elif method == "POST" and path == f"{API}/init/error":
                    inst.init_error = body.decode("utf-8", "replace")[:500]
                    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")
                else:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (OSError, HttpError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()

    # -- processes ---------------------------------------------------------------------------

    def env(self, inst: Instance) -> dict:
        a = self.args
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{inst.port}",
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"instance-{inst.index}",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "CLAIM_MAPPING_SSM_PARAMETER": a.parameter,
            "CLAIM_MAPPING_FILE": a.fallback,
            "CLAIM_MAPPING_REFRESH_SECONDS": str(a.refresh),
            "AWS_ENDPOINT_URL": a.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def spawn(self, inst: Instance, logdir: Path) -> None:
        log = open(logdir / f"{inst.index}.log", "wb")
        inst.exec_at = time.monotonic()
        inst.proc = subprocess.Popen(
            [self.args.binary], env=self.env(inst), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        )
        log.close()

    def kill_all(self) -> None:
        for inst in self.instances:
            p = inst.proc
            if p is not None and p.poll() is None:
                try:
                    p.kill()
                except ProcessLookupError:
                    pass
        for inst in self.instances:
            if inst.proc is not None:
                try:
                    inst.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass

    async def watch(self) -> None:
        """Exits before the end (failed inits) and the sum of the instances' RSS."""
        while True:
            total = 0
            for inst in self.instances:
                p = inst.proc
                if p is None:
                    continue
                if inst.exit_code is None:
                    code = p.poll()
                    if code is not None and not inst.stopping:
                        inst.exit_code, inst.exited_at = code, time.monotonic()
                        continue
                    try:
                        with open(f"/proc/{p.pid}/status", "rb") as f:
                            for line in f:
                                if line.startswith(b"VmRSS:"):
                                    total += int(line.split()[1])
                                    break
                    except OSError:
                        pass
            self.rss_samples += 1
            self.rss_peak_kib = max(self.rss_peak_kib, total)
            await asyncio.sleep(0.5)

    async def run(self) -> None:
        a = self.args
        logdir = Path(a.out_dir) / f"{a.instances}-logs"
        logdir.mkdir(parents=True, exist_ok=True)
        for inst in self.instances:
            inst.server = await asyncio.start_server(
                lambda r, w, inst=inst: self.runtime_api(inst, r, w), "127.0.0.1", 0)
            inst.port = inst.server.sockets[0].getsockname()[1]
        waves = max(1, min(a.waves, a.instances))
        per_wave = [len(range(w, a.instances, waves)) for w in range(waves)]
        self.t0 = time.monotonic()
        self.end = self.t0 + a.window + a.duration
        watcher = asyncio.create_task(self.watch())
        nxt = 0
        for w in range(waves):
            at = self.t0 + (a.window * w / (waves - 1) if waves > 1 else 0.0)
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            for _ in range(per_wave[w]):
                self.spawn(self.instances[nxt], logdir)
                nxt += 1
            await asyncio.sleep(0)
        remaining = self.end - time.monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)
        for inst in self.instances:
            inst.stopping = True
        watcher.cancel()
        self.kill_all()
        for inst in self.instances:
            inst.server.close()

    # -- report ------------------------------------------------------------------------------

    def report(self, ssm_log: Path) -> dict:
        a, t0 = self.args, self.t0
        insts = self.instances
        failed = [i for i in insts if i.init_error is not None or
                  (i.exit_code is not None and not i.responses)]
        served_param = [i for i in insts if i not in failed and i.first_source == "parameter"]
        served_fallback = [i for i in insts if i not in failed and i.first_source == "fallback"]
        no_response = [i for i in insts if i not in failed and not i.responses]
        recovered = [i for i in served_fallback if any(s == "parameter" for _, s, _ in i.responses)]
        cold = [i.first_next - i.exec_at for i in insts if i.first_next and i.exec_at]
        ms = lambda v: None if v is None else round(v * 1000, 1)  # noqa: E731
        cold_ms = {
            "min": ms(min(cold)) if cold else None,
            "median": ms(statistics.median(cold)) if cold else None,
            "p90": ms(percentile(cold, 90)), "p99": ms(percentile(cold, 99)),
            "max": ms(max(cold)) if cold else None,
        }
        # Served responses per 5 s bucket, by source.
        bucket_s = 5
        nb = int(math.ceil((a.window + a.duration) / bucket_s))
        buckets = [{"from_s": b * bucket_s, "parameter": 0, "fallback": 0, "unmarked": 0}
                   for b in range(nb)]
        for i in insts:
            for t, src, _lat in i.responses:
                b = min(nb - 1, max(0, int((t - t0) // bucket_s)))
                buckets[b][src] += 1
        for b in buckets:
            n = b["parameter"] + b["fallback"] + b["unmarked"]
            b["parameter_share"] = round(b["parameter"] / n, 3) if n else None
        # SSM calls per second, from the proxy's log.
        calls = []
        if ssm_log.exists():
            for line in ssm_log.read_text().splitlines():
                try:
                    c = json.loads(line)
                except ValueError:
                    continue
                if c["t"] >= t0 - 0.5:
                    calls.append(c)
        total_s = int(math.ceil(a.window + a.duration))
        per_s = [{"allowed": 0, "throttled": 0} for _ in range(total_s + 1)]
        for c in calls:
            s = int(c["t"] - t0)
            if 0 <= s <= total_s:
                per_s[s][c["result"]] += 1
        burst_s = min(10, total_s)
        burst = per_s[:burst_s]
        steady_from = max(10, int(math.ceil(a.window)) + 1)
        if steady_from >= total_s:
            steady_from = int(math.ceil(a.window)) + 1
        steady = [s["allowed"] + s["throttled"] for s in per_s[steady_from:total_s]]
        ssm = {
            "burst_first_s": burst_s,
            "burst_allowed_max_per_s": max((s["allowed"] for s in burst), default=0),
            "burst_allowed_mean_per_s": round(sum(s["allowed"] for s in burst) / max(1, burst_s), 2),
            "burst_throttled_max_per_s": max((s["throttled"] for s in burst), default=0),
            "burst_throttled_mean_per_s": round(sum(s["throttled"] for s in burst) / max(1, burst_s), 2),
            "steady_from_s": steady_from,
            "steady_mean_per_s": round(sum(steady) / len(steady), 2) if steady else None,
            "steady_max_per_s": max(steady) if steady else None,
            "total_allowed": sum(1 for c in calls if c["result"] == "allowed"),
            "total_throttled": sum(1 for c in calls if c["result"] == "throttled"),
            "per_second": per_s,
        }
        latencies = [lat for i in insts for _, _, lat in i.responses]
        logs = self.scan_logs()
        return {
            "instances": a.instances,
            "waves": a.waves, "window_s": a.window, "duration_s": a.duration,
            "refresh_s": a.refresh, "event_interval_s": a.event_interval,
            "rate": a.rate, "burst": a.burst,
            "served_parameter": len(served_param),
            "served_fallback": len(served_fallback),
            "fallback_then_parameter": len(recovered),
            "failed_init": len(failed),
            "failed_init_errors": sorted({(i.init_error or f"exit {i.exit_code}")[:200] for i in failed}),
            "no_response": len(no_response),
            "cold_start_ms": cold_ms,
            "cold_start_median_ms_by_source": {
                name: ms(statistics.median([i.first_next - i.exec_at for i in group if i.first_next]))
                if any(i.first_next for i in group) else None
                for name, group in (("parameter", served_param), ("fallback", served_fallback))},
            "responses": sum(len(i.responses) for i in insts),
            "invocation_errors": sum(i.errors for i in insts),
            "response_latency_ms": {"median": ms(statistics.median(latencies)) if latencies else None,
                                    "p99": ms(percentile(latencies, 99))},
            "served_by_5s": buckets,
            "ssm": ssm,
            "peak_rss_total_mib": round(self.rss_peak_kib / 1024, 1),
            "instance_logs": logs,
        }

    def scan_logs(self) -> dict:
        """What the instances logged about SSM: why they fell back, refreshes and their failures."""
        logdir = Path(self.args.out_dir) / f"{self.args.instances}-logs"
        fallback_causes: dict[str, int] = {}
        refresh_failed: dict[str, int] = {}
        refreshed = 0

        def cause(line: str) -> str:
            c = line.split("cause=", 1)[1] if "cause=" in line else line
            c = c.split(" live=", 1)[0]
            return c.split(": ", 1)[1] if c.startswith("cannot read SSM parameter") else c

        for inst in self.instances:
            try:
                text = (logdir / f"{inst.index}.log").read_text(errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                if "SSM mapping unusable" in line:
                    k = cause(line)
                    fallback_causes[k] = fallback_causes.get(k, 0) + 1
                elif "mapping refresh failed" in line:
                    k = cause(line)
                    refresh_failed[k] = refresh_failed.get(k, 0) + 1
                elif "mapping refreshed" in line:
                    refreshed += 1
        return {"fallback_causes": fallback_causes, "refreshed": refreshed,
                "refresh_failed": refresh_failed}


def markdown(r: dict) -> str:
    c, s = r["cold_start_ms"], r["ssm"]
    head = ("| N | parameter | fallback (→param later) | failed init | cold start ms min/med/p90/p99/max "
            "| SSM burst allowed max/mean per s | throttled max/mean per s | steady mean/max per s "
            "| peak RSS MiB |")
    sep = "|" + "---|" * 9
    row = (f"| {r['instances']} | {r['served_parameter']} | {r['served_fallback']} "
           f"({r['fallback_then_parameter']}) | {r['failed_init']} | "
           f"{c['min']}/{c['median']}/{c['p90']}/{c['p99']}/{c['max']} | "
           f"{s['burst_allowed_max_per_s']}/{s['burst_allowed_mean_per_s']} | "
           f"{s['burst_throttled_max_per_s']}/{s['burst_throttled_mean_per_s']} | "
           f"{s['steady_mean_per_s']}/{s['steady_max_per_s']} | {r['peak_rss_total_mib']} |")
    return "\n".join([head, sep, row])


def main() -> int:
    p = argparse.ArgumentParser(description="driver of scripts/simulate-scale")
    p.add_argument("--instances", type=int, required=True)
    p.add_argument("--waves", type=int, default=5)
    p.add_argument("--window", type=float, default=4.0, help="the waves start within this many s")
    p.add_argument("--refresh", type=int, default=10)
    p.add_argument("--duration", type=float, default=30.0, help="steady state after the window, s")
    p.add_argument("--event-interval", type=float, default=1.0)
    p.add_argument("--rate", type=float, default=40.0, help="for the report (the proxy enforces it)")
    p.add_argument("--burst", type=float, default=40.0)
    p.add_argument("--binary", default="target/release/claim-mapper-lambda")
    p.add_argument("--event", default="examples/events/v2-authentication-custom-attrs-groups.json")
    p.add_argument("--parameter", required=True)
    p.add_argument("--fallback", required=True)
    p.add_argument("--endpoint", required=True, help="AWS_ENDPOINT_URL for the instances (the proxy)")
    p.add_argument("--ssm-log", required=True)
    p.add_argument("--out-dir", default="target/scale")
    a = p.parse_args()
    if a.instances < 1:
        p.error("--instances must be at least 1")
    if not os.access(a.binary, os.X_OK):
        p.error(f"{a.binary} is not an executable (build it first: scripts/build or cargo build --release)")
    raise_nofile()
    soft, _ = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)
    if soft < 3 * a.instances + 100:
        p.error(f"RLIMIT_NOFILE is {soft}: too low for {a.instances} instances")
    driver = Driver(a)

    def terminated(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    try:
        asyncio.run(driver.run())
    except KeyboardInterrupt:
        print("interrupted; instances killed", file=sys.stderr)
        return 130
    finally:
        driver.kill_all()
    r = driver.report(Path(a.ssm_log))
    out = Path(a.out_dir) / f"{a.instances}.json"
    out.write_text(json.dumps(r, indent=2) + "\n")
    print(markdown(r))
    print()
    print("served by 5 s bucket (parameter/fallback):",
          " ".join(f"{b['from_s']}s:{b['parameter']}/{b['fallback']}" for b in r["served_by_5s"]))
    print("SSM calls per second (allowed/throttled):",
          " ".join(f"{s['allowed']}/{s['throttled']}" for s in r["ssm"]["per_second"]))
    print("median cold start by source (ms):", r["cold_start_median_ms_by_source"])
    lg = r["instance_logs"]
    print("fallback causes:", lg["fallback_causes"] or "none", "| refreshes that replaced the mapping:",
          lg["refreshed"], "| failed refreshes:", lg["refresh_failed"] or "none")
    if r["failed_init_errors"]:
        print("init failures:", *r["failed_init_errors"], sep="\n  ")
    print(f"written {out}; instance logs in {Path(a.out_dir) / f'{a.instances}-logs'}/")
    if r["responses"] == 0:
        print("error: no instance answered a single event", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
