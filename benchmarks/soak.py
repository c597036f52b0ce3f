"""`python -m benchmarks.soak`: minutes of the mixed scenario on each app, watching memory, descriptors and threads.

    python -m benchmarks.soak                     # 3 minutes per app (make soak)
    python -m benchmarks.soak --duration 60 --apps asgi
    python -m benchmarks.soak --warm-up 5 --duration 10 --interval 1    # the quick version the tests run

Each app runs in its default configuration (Uvicorn with one worker; Gunicorn with gunicorn.conf.py's
2 x cores + 1 sync workers). The run for one app:

1. a short warm-up load, then GET /merge from many clients at once, so that every worker has served
   every route and opened what it keeps open;
2. idle: the last merge ends, pool threads that sat idle are let go, and the process tree is sampled;
   this is the baseline;
3. the soak: the same load for `--duration` seconds, sampled every `--interval` seconds;
4. idle again, exactly as in 2, and sampled again.

Both idle samples come from the same steps, so anything the soak left behind shows as a difference:
threads above the baseline, or file descriptors above it by more than one per process (SQLite may keep
one, see DEFERRED_FDS_PER_PROCESS), are a leak; resident memory more than 10% above it is not steady.
Any Locust failure fails the run. Everything lands in benchmarks/results/soak-<timestamp>/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from benchmarks import report
from benchmarks.configs import SCENARIOS, SYNC_N, Run
from benchmarks.harness import ROOT, StartedServer, locust_command, pinning, read_locust_stats

# the apps as `make serve` runs them: one Uvicorn process; Gunicorn with its config's sync workers
SERVERS = {"asgi": "uvicorn", "wsgi": SYNC_N}
# resident memory may grow this much from the idle baseline to idle after the soak and still count as steady
STEADY_RSS_GROWTH = 0.10
# SQLite does not close the file of a connection that closes while another connection of the same process
# holds a lock on it (closing would drop that lock): it keeps the descriptor and reuses it for the next
# connection it opens, so each process may hold one such descriptor more after a merge thread ended
DEFERRED_FDS_PER_PROCESS = 1
# AnyIO keeps an idle thread of FastAPI's pool until it has been idle this long (WorkerThread.MAX_IDLE_TIME)
# and prunes it at the next call; a Gunicorn sync worker has no pool, and a merge's thread ends with it
POOL_IDLE_SECONDS = {"asgi": 10.0, "wsgi": 0.0}


@dataclass(frozen=True)
class Sample:
    """The server's process tree at one moment: resident memory, open file descriptors, threads."""

    seconds: float  # since the server answered for the first time
    phase: str
    rss_mib: float
    fds: int
    threads: int
    processes: int


def take_sample(process: psutil.Process, started: float, phase: str) -> Sample:
    """Add up RSS, descriptors and threads over the server and all its children."""
    rss = fds = threads = count = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            with member.oneshot():
                rss += member.memory_info().rss
                fds += member.num_fds()
                threads += member.num_threads()
            count += 1
        except psutil.NoSuchProcess:
            pass  # a worker that exited between listing and reading
    return Sample(round(time.monotonic() - started, 1), phase, round(rss / 2**20, 1), fds, threads, count)


def run_load(server: StartedServer, run: Run, duration: int, folder: Path, interval: float, phase: str,
             started: float) -> tuple[list[Sample], dict[str, Any]]:  # fmt: skip
    """Run the scenario's Locust load for `duration` seconds, sampling the server every `interval` seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    command, env = locust_command(run, server.url, duration, folder)
    _, generator_pin = pinning()
    process = psutil.Process(server.process.pid)
    samples = []
    with (folder / "locust.log").open("w") as output:
        locust = subprocess.Popen(generator_pin + command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + duration + 120
        while locust.poll() is None:
            samples.append(take_sample(process, started, phase))
            if time.monotonic() > deadline:
                locust.kill()
                raise RuntimeError(f"Locust did not finish; see {folder / 'locust.log'}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                locust.wait(interval)
    requests, failures, rps, p50, _, p99 = read_locust_stats(folder / f"{run.key}.json")
    figures = {"requests": requests, "failures": failures, "rps": round(rps, 1), "p50_ms": p50, "p99_ms": p99,
               "exit_code": locust.returncode}  # fmt: skip
    return samples, figures


def touch_every_worker(url: str, requests: int = 200, concurrency: int = 20) -> None:
    """GET /merge from many clients at once, so that every worker process opens its lock connection now.

    A sync Gunicorn worker opens it on its first merge request; one that first did so during the soak
    would look like a leak. Many requests in flight at once keep every worker busy, so each takes some.
    """

    def status(_number: int) -> int:
        return httpx.get(f"{url}/merge", timeout=10).status_code

    with ThreadPoolExecutor(concurrency) as pool:
        statuses = set(pool.map(status, range(requests)))
    if statuses != {200}:
        raise RuntimeError(f"GET /merge answered {sorted(statuses)} while warming up")


def settle(server: StartedServer, app: str, started: float, phase: str) -> Sample:
    """Wait until the server is idle the way it is after any load, then sample it."""
    process = psutil.Process(server.process.pid)
    merge_seconds = float(SCENARIOS["mixed"].server_env["MERGE_SECONDS"])
    deadline = time.monotonic() + merge_seconds + POOL_IDLE_SECONDS[app] + 60
    # a new connection per request: a kept-alive one would be a descriptor of ours in the sample
    while httpx.get(f"{server.url}/merge", timeout=10).json()["busy"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the last merge's hold did not end")
        time.sleep(0.2)
    # every pool thread but the one these requests use has now been idle since the last merge ended at
    # the latest: let them pass the pool's idle limit, then make the one call that prunes them
    time.sleep(POOL_IDLE_SECONDS[app] + 1)
    httpx.get(f"{server.url}/merge", timeout=10)
    # threads stop and sockets close a moment after the answer: sample until two samples agree
    previous = take_sample(process, started, phase)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = take_sample(process, started, phase)
        if (current.fds, current.threads, current.processes) == (previous.fds, previous.threads, previous.processes):
            return current
        previous = current
    raise RuntimeError("the server did not come to rest after the load")


@dataclass(frozen=True)
class Check:
    """One thing the soak must show, and whether it did."""

    name: str
    passed: bool
    detail: str


def judge(samples: list[Sample], loads: dict[str, dict[str, Any]]) -> list[Check]:
    """Failures, memory, descriptors and threads, from the idle samples before and after the soak."""
    baseline = next(sample for sample in samples if sample.phase == "idle after warm-up")
    after = next(sample for sample in samples if sample.phase == "idle after soak")
    failures = sum(load["failures"] for load in loads.values())
    requests = sum(load["requests"] for load in loads.values())
    exit_codes = [load["exit_code"] for load in loads.values()]
    growth = (after.rss_mib - baseline.rss_mib) / baseline.rss_mib
    allowed_fds = baseline.fds + DEFERRED_FDS_PER_PROCESS * after.processes
    return [
        Check("no unexpected failures", failures == 0 and exit_codes == [0, 0],
              f"{failures} failures in {requests:,} requests; Locust exit codes {exit_codes}"),
        Check("steady memory", growth <= STEADY_RSS_GROWTH,
              f"RSS {baseline.rss_mib} MiB idle after warm-up, {after.rss_mib} MiB idle after the soak "
              f"({growth:+.1%}; at most {STEADY_RSS_GROWTH:+.0%})"),
        Check("no leaked file descriptors", after.fds <= allowed_fds,
              f"{baseline.fds} open idle after warm-up, {after.fds} idle after the soak (at most {allowed_fds}: "
              f"SQLite may keep one closed connection's descriptor per process, for reuse)"),
        Check("no leaked threads", after.threads <= baseline.threads,
              f"{baseline.threads} idle after warm-up, {after.threads} idle after the soak"),
    ]  # fmt: skip


def rss_slope(samples: list[Sample]) -> float | None:
    """MiB per minute over the second half of the soak load (least squares): how fast memory still grew."""
    soak = [sample for sample in samples if sample.phase == "soak"]
    half = soak[len(soak) // 2 :]
    if len(half) < 3:
        return None
    mean_x = sum(sample.seconds for sample in half) / len(half)
    mean_y = sum(sample.rss_mib for sample in half) / len(half)
    spread = sum((sample.seconds - mean_x) ** 2 for sample in half)
    covariance = sum((sample.seconds - mean_x) * (sample.rss_mib - mean_y) for sample in half)
    return round(covariance / spread * 60, 2) if spread else None


def soak_app(app: str, arguments: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Start one app, warm it up, soak it, and return its samples, loads and checks."""
    run = Run(SERVERS[app], "mixed", arguments.users)
    server = StartedServer(run, folder / f"{app}.server.log")
    try:
        server.wait_until_ready()
        started = time.monotonic()
        process = psutil.Process(server.process.pid)
        samples = [take_sample(process, started, "start")]
        loads = {}
        for phase, duration in [("warm-up", arguments.warm_up), ("soak", arguments.duration)]:
            print(f"{app}: {phase}, {arguments.users} users for {duration} s")
            phase_samples, loads[phase] = run_load(server, run, duration, folder / f"{app}-{phase}",
                                                   arguments.interval, phase, started)  # fmt: skip
            samples += phase_samples
            samples.append(take_sample(process, started, f"end of {phase}"))
            if phase == "warm-up":
                touch_every_worker(server.url)
            samples.append(settle(server, app, started, f"idle after {phase}"))
    finally:
        server.stop()
    checks = judge(samples, loads)
    return {
        "server": run.server,
        "loads": loads,
        "rss_slope_mib_per_min": rss_slope(samples),
        "samples": [asdict(sample) for sample in samples],
        "checks": [asdict(check) for check in checks],
    }


def draw(results: dict[str, dict[str, Any]], folder: Path) -> Path:
    """One chart: RSS, descriptors and threads of each app over time."""
    import matplotlib.pyplot as plt  # report imported matplotlib with the file-only backend

    figure, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
    for app, result in results.items():
        samples = result["samples"]
        for axis, (name, label) in zip(axes, [("rss_mib", "RSS (MiB)"), ("fds", "open fds"), ("threads", "threads")],
                                       strict=True):  # fmt: skip
            axis.plot([s["seconds"] for s in samples], [s[name] for s in samples], marker=".", label=app)
            axis.set_ylabel(label)
    axes[0].legend()
    axes[-1].set_xlabel("seconds since the server first answered")
    axes[0].set_title("Soak: the server's process tree under the mixed scenario")
    figure.tight_layout()
    path = folder / "soak.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def print_summary(results: dict[str, dict[str, Any]]) -> None:
    """The terminal table: the samples that matter for each app, then its checks."""
    points = ["start", "end of warm-up", "idle after warm-up", "end of soak", "idle after soak"]
    print(f"\n{'app':<5} {'moment':<20} {'seconds':>8} {'RSS MiB':>8} {'fds':>5} {'threads':>8} {'processes':>10}")
    for app, result in results.items():
        by_phase = {sample["phase"]: sample for sample in result["samples"]}
        for point in points:
            sample = by_phase[point]
            print(f"{app:<5} {point:<20} {sample['seconds']:>8} {sample['rss_mib']:>8} {sample['fds']:>5} "
                  f"{sample['threads']:>8} {sample['processes']:>10}")  # fmt: skip
    for app, result in results.items():
        soak = result["loads"]["soak"]
        print(f"\n{app} ({result['server']}): soak {soak['requests']:,} requests, {soak['rps']} requests/s, "
              f"p50 {soak['p50_ms']} ms, p99 {soak['p99_ms']} ms; RSS slope over its second half "
              f"{result['rss_slope_mib_per_min']} MiB/min")  # fmt: skip
        for check in result["checks"]:
            print(f"  [{'pass' if check['passed'] else 'FAIL'}] {check['name']}: {check['detail']}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="asgi,wsgi", help="comma-separated: asgi, wsgi (default both)")
    parser.add_argument("--duration", type=int, default=180, help="seconds of soak per app (default 180)")
    parser.add_argument("--warm-up", type=int, default=20, help="seconds of warm-up load per app (default 20)")
    parser.add_argument("--users", type=int, default=50, help="Locust users: ten readers to one merger (default 50)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/soak-<timestamp>)")
    arguments = parser.parse_args(argv)
    unknown = [app for app in arguments.apps.split(",") if app not in SERVERS]
    if unknown:
        parser.error(f"unknown --apps {', '.join(unknown)}; choose from asgi, wsgi")
    if not 1 <= arguments.duration <= 3600 or not 1 <= arguments.warm_up <= 600 or arguments.users < 1:
        parser.error("--duration must be 1 to 3600 seconds, --warm-up 1 to 600, --users ≥ 1")
    if arguments.interval <= 0:
        parser.error("--interval must be > 0 seconds")
    return arguments


def main(argv: list[str] | None = None) -> int:
    """Soak each app in turn; exit 1 if a check failed."""
    arguments = _parse(argv)
    folder = arguments.out or ROOT / "benchmarks" / "results" / time.strftime("soak-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"apps": {app: SERVERS[app] for app in arguments.apps.split(",")}, "users": arguments.users,
                "warm_up_s": arguments.warm_up, "duration_s": arguments.duration, "interval_s": arguments.interval,
                "merge_seconds": SCENARIOS["mixed"].server_env["MERGE_SECONDS"]}  # fmt: skip
    results = {}
    for app in arguments.apps.split(","):
        try:
            results[app] = soak_app(app, arguments, folder)
        except (RuntimeError, OSError, ValueError, httpx.HTTPError) as error:
            print(f"soak: {app}: {str(error).splitlines()[0]} (logs in {folder})", file=sys.stderr)
            return 1
    chart = draw(results, folder)
    document = {"environment": report.environment(settings), "apps": results}
    (folder / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    print_summary(results)
    print(f"\nresults: {folder / 'results.json'}, chart: {chart}")
    passed = all(check["passed"] for result in results.values() for check in result["checks"])
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
