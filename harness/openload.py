"""Latency against offered load: a row's capacity from the closed loop, then the open loop at shares of it.

For each run (a server configuration under a scenario, with its number of users):

1. the closed loop the harness always runs (`measure`: Locust, that many users, each sending its next request
   when the last is answered). Its requests/s is the row's *capacity*; its p99 is what a closed loop reports
   there, a figure set by the number of users as much as by the server;
2. for a /lab scenario, the same closed loop with as few users as carry 80 % of that capacity (users = 0.8 x
   capacity x the wait): the closed-loop p99 at that throughput;
3. one fresh server, warmed up, and harness/openloop.py on the generator's core at each share of the capacity
   (50, 80, 95 and 110 % by default), each for `duration` seconds, its answers waited for before the next
   share, so that each starts on an empty queue.

A step is *generator-lagged* when the generator sent late (p99 send lag over LAG_LIMIT_MS) or used its whole
core: its latencies then hold the generator's delay too, and its answered rate is a lower bound. It is
*disturbed* when other processes on the machine (anything but the server and the generator) used more than
OTHERS_LIMIT of a core meanwhile: on a shared machine, a stall there is not the server's own.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil

from harness.measure import (
    SATURATED,
    LoadOptions,
    Measurement,
    cpu_split,
    measure,
    process_tree_cpu,
    raw_folder,
    serve,
)
from harness.scenarios import SCENARIOS, Run
from launcher import start_process, wait_for

LOADS = (50, 80, 95, 110)
# the share of capacity at which the closed loop is measured a second time, with fewer users
LIGHT_LOAD = 80
# a p99 send lag above this is no longer small beside a 50 to 100 ms wait: the step is the generator's too
LAG_LIMIT_MS = 5.0
# other processes using more than this share of a core during a step: the step was not the server's alone
OTHERS_LIMIT = 0.25
# at most this many connections: more than any row here keeps in flight below 110 % (capacity x wait, x 1.1)
CONNECTIONS = 500
# a request not answered this long after its due time is a timeout: far beyond the queue a 110 % step builds
TIMEOUT_SECONDS = 15.0
# the time a generator may take beyond its schedule and timeout: start-up, the last answers, the JSON line
GRACE_SECONDS = 15.0


@dataclass
class OpenStep:
    """What one open-loop step measured: the rate offered and answered, the latencies from the due times."""

    load_percent: int
    offered_rps: float
    achieved_rps: float
    scheduled: int
    sent: int
    unsent: int  # due while every connection was busy: never sent
    ok: int
    failures: dict[str, int]  # by kind: "timeout", "connection lost", "503", ...
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    service_p99_ms: float | None  # from sending, not from the due time: what a closed loop would report
    lag_p99_ms: float | None
    lag_max_ms: float | None
    generator_cpu: float
    server_cpu: float
    generator_lagged: bool
    by_second: list[dict[str, Any]] = field(default_factory=list)
    latency_hdr: str = ""  # the HDR histogram of latencies, hdrh's encoding
    other_cpu: float = 0.0  # cores used meanwhile by every other process on the machine

    @classmethod
    def from_figures(cls, load_percent: int, figures: dict[str, Any], server_cpu: float, busy: float) -> OpenStep:
        """A step from harness/openloop.py's JSON line, the server's cores and the whole machine's (`busy`)."""
        latency, lag = figures["latency_ms"], figures["send_lag_ms"]
        lagged = (lag["p99"] or 0.0) > LAG_LIMIT_MS or figures["generator_cpu"] >= SATURATED
        return cls(
            load_percent=load_percent,
            offered_rps=figures["offered_rps"],
            achieved_rps=figures["achieved_rps"],
            scheduled=figures["scheduled"],
            sent=figures["sent"],
            unsent=figures["unsent"],
            ok=figures["ok"],
            failures=figures["failures"],
            p50_ms=latency["p50"],
            p90_ms=latency["p90"],
            p99_ms=latency["p99"],
            max_ms=latency["max"],
            service_p99_ms=figures["service_ms"]["p99"],
            lag_p99_ms=lag["p99"],
            lag_max_ms=lag["max"],
            generator_cpu=round(figures["generator_cpu"], 3),
            server_cpu=round(server_cpu, 3),
            generator_lagged=lagged,
            by_second=figures["by_second"],
            latency_hdr=figures["latency_hdr"],
            other_cpu=round(max(0.0, busy - server_cpu - figures["generator_cpu"]), 3),
        )

    @property
    def disturbed(self) -> bool:
        """Whether other processes took more than OTHERS_LIMIT of a core during the step."""
        return self.other_cpu > OTHERS_LIMIT

    @property
    def suspect(self) -> str:
        """Why the step is not the server's alone, or an empty string."""
        return "generator lagged" if self.generator_lagged else "machine busy" if self.disturbed else ""

    @property
    def failed(self) -> int:
        """Requests sent and not answered with a 2xx."""
        return sum(self.failures.values())


@dataclass
class OpenRow:
    """A run's closed-loop measurements and its open-loop steps."""

    server: str
    scenario: str
    users: int
    closed: dict[str, Any]  # the closed loop at the run's users: a Measurement
    light: dict[str, Any] | None  # the closed loop with the users that carry LIGHT_LOAD % of the capacity
    light_users: int | None
    steps: list[OpenStep]

    @property
    def key(self) -> str:
        """The run's key, as the closed-loop report names it."""
        return Run(self.server, self.scenario, self.users).key

    @property
    def capacity(self) -> float:
        """Requests/s of the closed loop at the run's users: what the shares are of."""
        return float(self.closed["rps"])

    def step(self, load_percent: int) -> OpenStep | None:
        """The step at `load_percent` of the capacity, if measured."""
        return next((step for step in self.steps if step.load_percent == load_percent), None)

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenRow:
        """A row from its as_dict()."""
        return cls(**data | {"steps": [OpenStep(**step) for step in data["steps"]]})


def open_loop(
    url: str, rate: float, duration: float, log_path: Path, cpus: str | None, connections: int = CONNECTIONS
) -> dict[str, Any]:
    """Run harness/openloop.py against `url` at `rate` for `duration` seconds on `cpus`, with at most
    `connections`; its figures."""
    command = [sys.executable, "-m", "harness.openloop", url, "--rate", f"{rate:.3f}", "--duration", str(duration)]
    command += ["--connections", str(connections), "--timeout", str(TIMEOUT_SECONDS)]
    started = start_process(command, log_path, cpus=cpus)
    try:
        wait_for(started.exited, duration + TIMEOUT_SECONDS + GRACE_SECONDS, "the open-loop generator", interval=0.2)
    finally:
        started.stop()
    lines = started.log().strip().splitlines()
    if started.process.returncode != 0 or not lines:
        raise RuntimeError(f"the open-loop generator failed: {started.log()[-500:]}")
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy so far, every core and process together."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def light_users(run: Run, capacity: float) -> int | None:
    """How many closed-loop users carry LIGHT_LOAD % of `capacity` on a /lab scenario (each request waits its
    lab_ms); None where the wait is not known."""
    wait_ms = SCENARIOS[run.scenario].lab_ms
    if not wait_ms or capacity <= 0:
        return None
    return max(1, round(LIGHT_LOAD / 100 * capacity * wait_ms / 1000))


def progress_line(row: Run, capacity: float, step: OpenStep) -> str:
    """One line for the terminal once a step is measured."""
    failed = f", {step.failed} failed" if step.failed else ""
    unsent = f", {step.unsent} unsent" if step.unsent else ""
    lagged = f", {step.suspect}" if step.suspect else ""
    p50 = "–" if step.p50_ms is None else f"{step.p50_ms:,.0f}"
    p99 = "–" if step.p99_ms is None else f"{step.p99_ms:,.0f}"
    return (
        f"{row.key}: {step.load_percent}% of {capacity:,.1f}/s: offered {step.offered_rps:,.1f}/s, answered "
        f"{step.achieved_rps:,.1f}/s, p50 {p50} ms, p99 {p99} ms{unsent}{failed}{lagged}"
    )


def measure_open(
    run: Run,
    duration: int,
    folder: Path,
    loads: tuple[int, ...] = LOADS,
    report: Callable[[str], None] = print,
) -> OpenRow:
    """The closed loop at the run's users, again at LIGHT_LOAD %, then the open loop at each of `loads` % of the
    capacity on one fresh server; `report` gets a line per step. Logs in `folder`/raw/."""
    options = LoadOptions(duration)
    closed: Measurement = measure(run, 1, options, folder)
    capacity = closed.rps
    report(f"{run.key}: closed loop, {run.users} users: {capacity:,.1f}/s, p99 {closed.p99_ms} ms (the capacity)")
    if capacity <= 0:
        raise RuntimeError(f"{run.key}: the closed loop answered nothing, so there is no capacity to share")
    light = None
    users = light_users(run, capacity)
    if users is not None and users < run.users:
        light = measure(replace(run, users=users), 1, options, folder)
        report(f"{run.key}: closed loop, {users} users: {light.rps:,.1f}/s, p99 {light.p99_ms} ms")
    split = cpu_split()
    raw = raw_folder(folder)
    steps = []
    with serve(run, split, raw) as server:
        url = server.url + SCENARIOS[run.scenario].path
        for load in loads:
            before, machine, started = process_tree_cpu(server.pid), busy_seconds(), time.monotonic()
            log_path = raw / f"{run.key}-open{load}.openloop.log"
            figures = open_loop(url, capacity * load / 100, duration, log_path, split.generator)
            seconds = time.monotonic() - started
            server_cpu = (process_tree_cpu(server.pid) - before) / seconds
            steps.append(OpenStep.from_figures(load, figures, server_cpu, (busy_seconds() - machine) / seconds))
            report(progress_line(run, capacity, steps[-1]))
    light_figures, light_count = (light.as_dict(), users) if light else (None, None)
    return OpenRow(run.server, run.scenario, run.users, closed.as_dict(), light_figures, light_count, steps)
