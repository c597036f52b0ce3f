"""One fair measurement: a fresh server pinned to its cores, a warm-up, then the load, with CPU use on both sides."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import httpx
import psutil

from harness.parse import LoadFigures, parse_wrk, read_locust_stats
from harness.scenarios import SCENARIOS, WRK_SCRIPTS, Run
from launcher import (
    HOST,
    ROOT,
    RunningServer,
    StartedProcess,
    bearer,
    checkout_token,
    config,
    free_port,
    run_postgres,
    run_redis,
    run_server,
    start_process,
    wait_for,
)
from launcher.catalog import CORES

Generator = Literal["locust", "wrk"]
# a generator using 90% of its cores is saturated: what it measured is a lower bound for the server
SATURATED = 0.9
# loaded beside the locustfile when Locust runs distributed: see its docstring
WORKERS_PLUGIN = "harness/locust_workers.py"
# the time a load run may take beyond its duration (start-up, the last requests, writing the report)
GRACE_SECONDS = 60
# a results folder holds what a reader opens (report.md, results.json, the charts) at its top, and what only
# a digger opens (server logs, SQLite lock files, Locust's logs, HTML reports and statistics) in this subfolder
RAW = "raw"


@dataclass(frozen=True)
class LoadOptions:
    """How to load a server: for how long, with which generator, how many Locust worker processes."""

    duration: int
    generator: Generator = "locust"
    processes: int | None = None  # Locust distributed: a master and this many workers


@dataclass(frozen=True)
class CpuSplit:
    """Which cores the server and the load generator run on (taskset lists), so neither steals the other's."""

    server: str | None
    generator: str | None
    generator_cores: int

    @property
    def server_cores(self) -> int:
        """How many cores the server may use."""
        return CORES - self.generator_cores if self.server else CORES


def cpu_split(processes: int | None = None) -> CpuSplit:
    """The generator on the last core (or `processes` of them, one left for the server), the server on the rest."""
    if CORES < 2:
        return CpuSplit(None, None, CORES)
    first = CORES - min(processes or 1, CORES - 1)
    generator = str(first) if first == CORES - 1 else f"{first}-{CORES - 1}"
    server = "0" if first == 1 else f"0-{first - 1}"
    return CpuSplit(server, generator, CORES - first)


@dataclass
class Measurement:
    """What one run measured."""

    run: str
    repeat: int
    generator: str
    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    server_cpu: float  # cores used by the server's processes, on average
    generator_cpu: float  # the same for the load generator
    seconds: float
    exit_code: int
    generator_bound: bool
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        """The measurement as JSON-ready data."""
        return asdict(self)


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and all its children."""
    total = 0.0
    root = psutil.Process(pid)
    for member in [root, *root.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass  # a worker that exited between listing and reading
    return total


def children_cpu() -> float:
    """CPU seconds used by the processes this one started and waited for: the load generators."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def warm_up(url: str, run: Run) -> None:
    """Touch every route the scenario uses a few hundred times, so imports and caches are warm."""
    scenario = SCENARIOS[run.scenario]
    paths = ["/public/test"]
    if scenario.lab_ms is not None:
        paths.append(scenario.path.replace(f"ms={scenario.lab_ms}", "ms=0"))
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(200):
            for path in paths:
                client.get(path)


def distributed_options(processes: int | None) -> list[str]:
    """Locust's own --processes N: a master that runs no users, and N forked workers that report to it."""
    if not processes:
        return []
    port = free_port()
    # the master listens on every interface, on port 5557, unless told otherwise: keep it on loopback, on a
    # port of its own, so that two runs side by side do not meet; the workers connect to --master-port.
    master = ["--master-bind-host", HOST, "--master-bind-port", str(port), "--master-port", str(port)]
    return ["--processes", str(processes), *master, "--expect-workers-max-wait", "30"]


def locust_command(run: Run, url: str, duration: int, prefix: Path, processes: int | None = None) -> list[str]:
    """The headless Locust command for `run` against `url`, writing <prefix>.json and <prefix>.html."""
    scenario = SCENARIOS[run.scenario]
    # distributed, harness/locust_workers.py keeps the workers from writing over the master's --json-file
    locustfiles = scenario.locustfile + (f",{WORKERS_PLUGIN}" if processes else "")
    command = [sys.executable, "-m", "locust", "-f", locustfiles, "--headless", "--host", url]
    command += ["-u", str(run.users), "-r", str(run.users), "-t", f"{duration}s", "--stop-timeout", "2"]
    command += ["--json-file", str(prefix), "--html", f"{prefix}.html", "--only-summary"]
    return command + distributed_options(processes)


def locust_env(run: Run) -> dict[str, str]:
    """What the scenario's locustfile reads from its environment."""
    scenario = SCENARIOS[run.scenario]
    env = {**scenario.server_env, **scenario.locust_env}
    if scenario.lab_ms is not None:
        env["LAB_MS"] = str(scenario.lab_ms)
    return env


def wrk_command(run: Run, url: str, duration: int) -> list[str]:
    """wrk on one thread with as many connections as the run has users, and the scenario's Lua script."""
    scenario = SCENARIOS[run.scenario]
    script = ["-s", f"{WRK_SCRIPTS}/{scenario.wrk_script}"] if scenario.wrk_script else []
    return ["wrk", "-t1", f"-c{run.users}", f"-d{duration}s", "--latency", *script, url + scenario.path]


@dataclass
class RunningLoad:
    """A load generator at work: its process, and where its figures will be once it has finished."""

    generator: Generator
    started: StartedProcess
    stats_path: Path  # Locust's --json-file; wrk prints its figures

    def finish(self, timeout: float) -> tuple[LoadFigures, int]:
        """Wait until the generator stops by itself; its figures and its exit code."""
        try:
            wait_for(self.started.exited, timeout, f"{self.generator} to finish", interval=0.2)
        finally:
            self.started.stop()
        exit_code = self.started.process.returncode
        if self.generator == "wrk":
            return parse_wrk(self.started.log()), exit_code
        return read_locust_stats(self.stats_path), exit_code


def start_load(
    run: Run, url: str, options: LoadOptions, prefix: Path, cpus: str | None, env: dict[str, str] | None = None
) -> RunningLoad:
    """Start the load generator against `url` for the run's duration: <prefix>.locust.log (or .wrk.log), and
    Locust's <prefix>.json and <prefix>.html; `env` adds to what the locustfile reads."""
    if options.generator == "wrk":
        command = wrk_command(run, url, options.duration)
    else:
        command = locust_command(run, url, options.duration, prefix, options.processes)
    log_path = prefix.with_name(f"{prefix.name}.{options.generator}.log")
    # the token POST /merge sends (benchmarks/wrk/merge.lua, the locustfiles): the one run_server gave the server
    generator_env = {**locust_env(run), "MERGE_TOKEN": checkout_token(), **(env or {})}
    started = start_process(command, log_path, generator_env, cpus)
    return RunningLoad(options.generator, started, prefix.with_name(f"{prefix.name}.json"))


def generate_load(run: Run, url: str, options: LoadOptions, prefix: Path, cpus: str | None) -> tuple[LoadFigures, int]:
    """Run the load generator against `url` until it stops by itself; its figures and its exit code."""
    return start_load(run, url, options, prefix, cpus).finish(options.duration + GRACE_SECONDS)


def take_the_hold(server: RunningServer) -> None:
    """Take the shared resource before the clock starts, so that a merge run measures the busy path (409)."""
    hold = {"branch_name": "benchmark/hold"}
    answer = httpx.post(f"{server.url}/merge", json=hold, headers=bearer(checkout_token()), timeout=10)
    if answer.status_code != 202:
        raise RuntimeError(f"the hold before the run was answered {answer.status_code}: {answer.text[:200]}")


@contextmanager
def serve(run: Run, split: CpuSplit, raw: Path) -> Iterator[RunningServer]:
    """A fresh server for `run` on the server's cores, with what its scenario needs beside it, warmed up; its
    files in `raw`."""
    scenario = SCENARIOS[run.scenario]
    with ExitStack() as stack:
        env = dict(scenario.server_env)
        if scenario.redis:
            # on the generator's cores: the server's core is the one being measured
            env["LOCK_URL"] = stack.enter_context(run_redis(cpus=split.generator)).url
        if scenario.postgres:
            # beside Redis, for the same reason; a pool per worker process, so a few hundred connections at most
            env["DATABASE_URL"] = stack.enter_context(run_postgres(max_connections=300, cpus=split.generator)).url
        server = stack.enter_context(
            run_server(config(run.server), env, folder=raw, cpus=split.server, access_log=run.access_log)
        )
        warm_up(server.url, run)
        if scenario.wrk_script == "merge.lua" and not config(run.server).baseline:
            take_the_hold(server)  # a bare app has no lock: its every POST /merge is the 409 already
        yield server


def measure(run: Run, repeat: int, options: LoadOptions, folder: Path) -> Measurement:
    """Start a fresh server, warm it up, load it for the run's duration and collect every figure; the server's
    and the generator's files go in `folder`/raw/."""
    split = cpu_split(options.processes)
    raw = raw_folder(folder)
    prefix = raw / f"{run.key}-r{repeat}"
    with serve(run, split, raw) as server:
        server_before, generator_before, started = process_tree_cpu(server.pid), children_cpu(), time.monotonic()
        figures, exit_code = generate_load(run, server.url, options, prefix, split.generator)
        seconds = time.monotonic() - started
        server_cpu = (process_tree_cpu(server.pid) - server_before) / seconds
        generator_cpu = (children_cpu() - generator_before) / seconds
    # the generator's cores are saturated while the server still has CPU to spare; with --processes the
    # figure counts the master and every worker (each waited for by the master, so RUSAGE_CHILDREN has them)
    busy_generator = generator_cpu >= SATURATED * min(split.generator_cores, options.processes or 1)
    generator_bound = busy_generator and server_cpu < SATURATED * split.server_cores
    return Measurement(
        run=run.key,
        repeat=repeat,
        generator=options.generator,
        requests=figures.requests,
        failures=figures.failures,
        rps=figures.rps,
        p50_ms=figures.p50_ms,
        p95_ms=figures.p95_ms,
        p99_ms=figures.p99_ms,
        server_cpu=round(server_cpu, 3),
        generator_cpu=round(generator_cpu, 3),
        seconds=round(seconds, 2),
        exit_code=exit_code,
        generator_bound=generator_bound,
    )


def new_results_folder(name: str = "", base: Path | None = None) -> Path:
    """benchmarks/results/<name><timestamp>/, created."""
    folder = (base or ROOT / "benchmarks" / "results") / (name + time.strftime("%Y%m%d-%H%M%S"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def raw_folder(folder: Path) -> Path:
    """`folder`/raw/, created: where a run's logs, lock files and Locust reports go, apart from the report."""
    raw = folder / RAW
    raw.mkdir(parents=True, exist_ok=True)
    return raw
