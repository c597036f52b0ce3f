"""A soak: minutes of the mixed scenario on one app, watching the process tree's memory, descriptors and threads.

The run for one app:

1. a short warm-up load, then GET /merge from many clients at once, so that every worker has served
   every route and opened what it keeps open;
2. idle: the last merge ends, pool threads that sat idle are let go, and the process tree is sampled;
   this is the baseline;
3. the soak: the same load for its duration, sampled at an interval;
4. idle again, exactly as in 2, and sampled again.

Both idle samples come from the same steps, so anything the soak left behind shows as a difference:
threads above the baseline, or file descriptors above it by more than one per process (SQLite may keep
one, see DEFERRED_FDS_PER_PROCESS), are a leak; resident memory more than 10% above it is not steady.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from harness.measure import LoadOptions, cpu_split, start_load
from harness.report.checks import Check
from harness.scenarios import SCENARIOS, Run
from launcher import RunningServer, ServerConfig, run_server, wait_for
from launcher.catalog import GUNICORN_SYNC_N, UVICORN

# the apps as `make serve` runs them: one Uvicorn process; Gunicorn with its config's sync workers
SERVERS: dict[str, ServerConfig] = {"asgi": UVICORN, "wsgi": GUNICORN_SYNC_N}
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
class SoakOptions:
    """How long to warm up and to soak, with how many users, sampling how often."""

    duration: int = 180
    warm_up: int = 20
    users: int = 50
    interval: float = 5.0


@dataclass(frozen=True)
class Sample:
    """The server's process tree at one moment: resident memory, open file descriptors, threads."""

    seconds: float  # since the server answered for the first time
    phase: str
    rss_mib: float
    fds: int
    threads: int
    processes: int


def take_sample(pid: int, started: float, phase: str) -> Sample:
    """Add up RSS, descriptors and threads over the server and all its children."""
    rss = fds = threads = count = 0
    root = psutil.Process(pid)
    for member in [root, *root.children(recursive=True)]:
        try:
            with member.oneshot():
                rss += member.memory_info().rss
                fds += member.num_fds()
                threads += member.num_threads()
            count += 1
        except psutil.NoSuchProcess:
            pass  # a worker that exited between listing and reading
    return Sample(round(time.monotonic() - started, 1), phase, round(rss / 2**20, 1), fds, threads, count)


@dataclass(frozen=True)
class Phase:
    """One load of the soak: its name, how long it lasts, how often the server is sampled, where its logs go."""

    name: str
    duration: int
    interval: float
    folder: Path


def run_load(server: RunningServer, run: Run, phase: Phase, started: float) -> tuple[list[Sample], dict[str, Any]]:
    """Run the scenario's Locust load for the phase, sampling the server at the phase's interval."""
    load = start_load(run, server.url, LoadOptions(phase.duration), phase.folder / run.key, cpu_split().generator)
    samples = []
    deadline = time.monotonic() + phase.duration + 120
    while not load.started.exited():
        samples.append(take_sample(server.pid, started, phase.name))
        if time.monotonic() > deadline:
            break
        time.sleep(phase.interval)
    figures, exit_code = load.finish(120)
    return samples, {
        "requests": figures.requests,
        "failures": figures.failures,
        "rps": round(figures.rps, 1),
        "p50_ms": figures.p50_ms,
        "p99_ms": figures.p99_ms,
        "exit_code": exit_code,
    }


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


def settle(server: RunningServer, app: str, started: float, phase: str) -> Sample:
    """Wait until the server is idle the way it is after any load, then sample it."""
    merge_seconds = float(SCENARIOS["mixed"].server_env["MERGE_SECONDS"])
    # a new connection per request: a kept-alive one would be a descriptor of ours in the sample
    wait_for(
        lambda: not httpx.get(f"{server.url}/merge", timeout=10).json()["busy"],
        merge_seconds + 60,
        "the last merge's hold to end",
        interval=0.2,
    )
    # every pool thread but the one these requests use has now been idle since the last merge ended at
    # the latest: let them pass the pool's idle limit, then make the one call that prunes them
    time.sleep(POOL_IDLE_SECONDS[app] + 1)
    httpx.get(f"{server.url}/merge", timeout=10)
    # threads stop and sockets close a moment after the answer: sample until two samples agree
    samples = [take_sample(server.pid, started, phase)]

    def at_rest() -> Sample | None:
        samples.append(take_sample(server.pid, started, phase))
        previous, current = samples[-2], samples[-1]
        same = (current.fds, current.threads, current.processes) == (previous.fds, previous.threads, previous.processes)
        return current if same else None

    return wait_for(at_rest, 60, "the server to come to rest after the load", interval=0.5)


def judge(samples: list[Sample], loads: dict[str, dict[str, Any]]) -> list[Check]:
    """Failures, memory, descriptors and threads, from the idle samples before and after the soak."""
    baseline = next(sample for sample in samples if sample.phase == "idle after warm-up")
    after = next(sample for sample in samples if sample.phase == "idle after soak")
    failures = sum(load["failures"] for load in loads.values())
    requests = sum(load["requests"] for load in loads.values())
    exit_codes = [load["exit_code"] for load in loads.values()]
    growth = (after.rss_mib - baseline.rss_mib) / baseline.rss_mib
    allowed_fds = baseline.fds + DEFERRED_FDS_PER_PROCESS * after.processes
    rss = f"RSS {baseline.rss_mib} MiB idle after warm-up, {after.rss_mib} MiB idle after the soak"
    fds = f"{baseline.fds} open idle after warm-up, {after.fds} idle after the soak (at most {allowed_fds}: "
    return [
        Check(
            "no unexpected failures",
            failures == 0 and exit_codes == [0, 0],
            f"{failures} failures in {requests:,} requests; Locust exit codes {exit_codes}",
        ),
        Check(
            "steady memory",
            growth <= STEADY_RSS_GROWTH,
            f"{rss} ({growth:+.1%}; at most {STEADY_RSS_GROWTH:+.0%})",
        ),
        Check(
            "no leaked file descriptors",
            after.fds <= allowed_fds,
            fds + "SQLite may keep one closed connection's descriptor per process, for reuse)",
        ),
        Check(
            "no leaked threads",
            after.threads <= baseline.threads,
            f"{baseline.threads} idle after warm-up, {after.threads} idle after the soak",
        ),
    ]


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


def soak_app(app: str, options: SoakOptions, folder: Path) -> dict[str, Any]:
    """Start one app, warm it up, soak it, and return its samples, loads and checks."""
    run = Run(SERVERS[app].id, "mixed", options.users)
    env = dict(SCENARIOS["mixed"].server_env)
    with run_server(SERVERS[app], env, folder=folder, cpus=cpu_split().server) as server:
        started = time.monotonic()
        samples = [take_sample(server.pid, started, "start")]
        loads = {}
        for name, duration in [("warm-up", options.warm_up), ("soak", options.duration)]:
            print(f"{app}: {name}, {options.users} users for {duration} s", flush=True)
            phase = Phase(name, duration, options.interval, folder / f"{app}-{name}")
            phase_samples, loads[name] = run_load(server, run, phase, started)
            samples += [*phase_samples, take_sample(server.pid, started, f"end of {name}")]
            if name == "warm-up":
                touch_every_worker(server.url)
            samples.append(settle(server, app, started, f"idle after {name}"))
    return {
        "server": run.server,
        "loads": loads,
        "rss_slope_mib_per_min": rss_slope(samples),
        "samples": [asdict(sample) for sample in samples],
        "checks": [asdict(check) for check in judge(samples, loads)],
    }


def draw(results: dict[str, dict[str, Any]], folder: Path) -> Path:
    """One chart: RSS, descriptors and threads of each app over time."""
    from harness.report import style

    figure, axes = style.new_figure_rows(3, 9, 7)
    rows = [("rss_mib", "RSS (MiB)"), ("fds", "open fds"), ("threads", "threads")]
    for app, result in results.items():
        samples = result["samples"]
        colour = style.colour_of(result["server"])
        for axis, (name, label) in zip(axes, rows, strict=True):
            axis.plot([s["seconds"] for s in samples], [s[name] for s in samples], marker=".", label=app, color=colour)
            axis.set_ylabel(label)
    axes[0].legend()
    axes[-1].set_xlabel("seconds since the server first answered")
    axes[0].set_title("Soak: the server's process tree under the mixed scenario")
    return style.save(figure, folder / "soak.png")
