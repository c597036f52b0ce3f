"""Run one measurement fairly: a fresh server, a warm-up, then the load, with CPU use on both sides."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psutil

from benchmarks.configs import CORES, HOST, PYTHON, SCENARIOS, SERVERS, Run
from benchmarks.launch import free_port

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILES = ROOT / "benchmarks" / "locustfiles"
# a generator using 90% of its one core is saturated: what it measured is a lower bound
SATURATED = 0.9


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


def pinning(processes: int | None = None) -> tuple[list[str], list[str]]:
    """taskset prefixes: the generator on the last core (or `processes` of them, one left), the server on the rest."""
    if CORES < 2 or shutil.which("taskset") is None:
        return [], []
    first = CORES - min(processes or 1, CORES - 1)
    generator_cores = str(first) if first == CORES - 1 else f"{first}-{CORES - 1}"
    return ["taskset", "-c", f"0-{first - 1}"], ["taskset", "-c", generator_cores]


def generator_cores(processes: int | None = None) -> int:
    """How many cores the load generator may use: the ones pinning() gives it, else every core."""
    _, generator_pin = pinning(processes)
    if not generator_pin:
        return CORES
    first, _, last = generator_pin[2].partition("-")
    return int(last or first) - int(first) + 1


def distributed_options(processes: int | None) -> list[str]:
    """Locust's own --processes N: a master that runs no users, and N forked workers that report to it."""
    if not processes:
        return []
    port = free_port()
    # the master listens on every interface, on port 5557, unless told otherwise: keep it on loopback, on a
    # port of its own, so that two runs side by side do not meet; the workers connect to --master-port.
    # The forked workers keep --json-file and write their own (emptied) statistics to it as they quit; the
    # master writes last, after waiting for their final reports, so the file holds the master's figures
    return ["--processes", str(processes), "--master-bind-host", HOST, "--master-bind-port", str(port),
            "--master-port", str(port), "--expect-workers-max-wait", "30"]  # fmt: skip


def _process_tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class StartedServer:
    """A server process for one run, on a free port, pinned to the server's cores."""

    def __init__(self, run: Run, log_path: Path, processes: int | None = None,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        server, scenario = SERVERS[run.server], SCENARIOS[run.scenario]
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        server_pin, _ = pinning(processes)
        lock_url = f"sqlite:///{log_path.parent / (log_path.stem + '.lock.sqlite3')}"
        # `env` last: the scale-out run gives every instance the same Redis instead of a file of its own
        env = {**os.environ, "LOG_LEVEL": "warning", **scenario.server_env, "LOCK_URL": lock_url, **(env or {})}
        self.log_file = log_path.open("wb")
        self.process = subprocess.Popen(
            server_pin + server.command(self.port, access_log=run.access_log),
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.log_path = log_path

    def wait_until_ready(self, deadline_seconds: float = 30.0) -> None:
        """Poll until the server answers, or raise with its log."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/public/test", timeout=1).status_code == 200:
                    # multi-worker servers: give the other workers a moment to finish booting too
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        log = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"server did not start (exit code {self.process.poll()}):\n{log}")

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and its workers."""
        return _process_tree_cpu(psutil.Process(self.process.pid))

    def stop(self) -> None:
        """SIGTERM the server's process group; SIGKILL it if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()


def warm_up(url: str, run: Run) -> None:
    """Touch every route the scenario uses a few hundred times, so imports and caches are warm."""
    paths = ["/public/test"]
    if SCENARIOS[run.scenario].lab_ms is not None:
        paths.append(f"/lab/{run.scenario}?ms=0")
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(200):
            for path in paths:
                client.get(path)


def locust_command(run: Run, url: str, duration: int, folder: Path,
                   processes: int | None = None) -> tuple[list[str], dict[str, str]]:  # fmt: skip
    """The headless Locust command for `run` against `url`, writing <folder>/<run key>.json and .html; its env."""
    scenario = SCENARIOS[run.scenario]
    prefix = folder / run.key
    command = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILES / scenario.locustfile), "--headless"]
    command += ["-u", str(run.users), "-r", str(run.users), "-t", f"{duration}s", "--stop-timeout", "2"]
    command += ["--host", url, "--json-file", str(prefix), "--html", f"{prefix}.html", "--only-summary"]
    command += distributed_options(processes)
    env = {**os.environ, **scenario.server_env, **scenario.locust_env}
    if scenario.lab_ms is not None:
        env["LAB_MS"] = str(scenario.lab_ms)
    return command, env


def read_locust_stats(path: Path) -> tuple[int, int, float, float | None, float | None, float | None]:
    """Requests, failures, requests/s, p50, p95 and p99 (ms) from a --json-file, every row together."""
    # --json-file holds the final figures; the --csv files are rewritten each second and miss the last one
    entries = json.loads(path.read_text())
    requests = sum(entry["num_requests"] for entry in entries)
    failures = sum(entry["num_failures"] for entry in entries)
    if requests == 0:
        return 0, failures, 0.0, None, None, None
    elapsed = max(e["last_request_timestamp"] for e in entries) - min(e["start_time"] for e in entries)
    # Locust keeps each endpoint's response times as a histogram of rounded milliseconds; merge them
    histogram: Counter[float] = Counter()
    for entry in entries:
        histogram.update({float(ms): count for ms, count in entry["response_times"].items()})

    def percentile(fraction: float) -> float:
        wanted, seen = fraction * sum(histogram.values()), 0
        for ms in sorted(histogram):
            seen += histogram[ms]
            if seen >= wanted:
                return ms
        return max(histogram)

    return requests, failures, requests / max(elapsed, 1e-9), percentile(0.5), percentile(0.95), percentile(0.99)


_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in")
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
# printed by a Lua script that judges the answers itself (benchmarks/wrk/merge.lua: a 409 is expected there)
_WRK_UNEXPECTED = re.compile(r"Unexpected responses: (\d+)")
WRK_SCRIPTS = Path(__file__).parent / "wrk"
_WRK_LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def _parse_wrk(output: str) -> tuple[int, int, float, float | None, float | None, float | None]:
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {int(p): float(v) * scale[unit] for p, v, unit in _WRK_LATENCY.findall(output)}
    errors = _WRK_UNEXPECTED.search(output) or _WRK_ERRORS.search(output)
    total, rps = _WRK_TOTAL.search(output), _WRK_RPS.search(output)
    if total is None or rps is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    # wrk reports p90, not p95: the p95 column stays empty for wrk runs
    return (
        int(total.group(1)),
        int(errors.group(1)) if errors else 0,
        float(rps.group(1)),
        latency.get(50),
        None,
        latency.get(99),
    )


def measure(run: Run, repeat: int, duration: int, generator: str, folder: Path,
            processes: int | None = None) -> Measurement:  # fmt: skip
    """Start a fresh server, warm it up, load it for `duration` seconds and collect every figure.

    `processes` runs Locust distributed (--processes N) for when one generator process is not enough.
    """
    _, generator_pin = pinning(processes)
    server = StartedServer(run, folder / f"{run.key}-r{repeat}.server.log", processes)
    try:
        server.wait_until_ready()
        warm_up(server.url, run)
        if SCENARIOS[run.scenario].id == "merge":
            # take the hold first, so that the load measures the busy path (409) and not one lucky 202
            httpx.post(f"{server.url}/merge", json={"branch_name": "benchmark/hold"}, timeout=10)
        server_before, generator_before, started = server.cpu_seconds(), _children_cpu(), time.monotonic()
        if generator == "wrk":
            scenario = SCENARIOS[run.scenario]
            command = ["wrk", "-t1", f"-c{run.users}", f"-d{duration}s", "--latency", server.url + scenario.path]
            if scenario.wrk_script:
                command[1:1] = ["-s", str(WRK_SCRIPTS / scenario.wrk_script)]
            result = subprocess.run(generator_pin + command, capture_output=True, text=True, timeout=duration + 60)
            figures = _parse_wrk(result.stdout)
            exit_code = result.returncode
        else:
            command, env = locust_command(run, server.url, duration, folder, processes)
            log = folder / f"{run.key}-r{repeat}.locust.log"
            with log.open("w") as output:
                result = subprocess.run(
                    generator_pin + command, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=duration + 60
                )
            figures = read_locust_stats(folder / f"{run.key}.json")
            exit_code = result.returncode
        seconds = time.monotonic() - started
        server_cpu = (server.cpu_seconds() - server_before) / seconds
        generator_cpu = (_children_cpu() - generator_before) / seconds
    finally:
        server.stop()
    server_cores = CORES - generator_cores(processes) if pinning(processes)[0] else CORES
    # the generator's cores are saturated while the server still has CPU to spare; with --processes the
    # figure counts the master and every worker (each waited for by the master, so RUSAGE_CHILDREN has them)
    busy_generator = generator_cpu >= SATURATED * min(generator_cores(processes), processes or 1)
    generator_bound = busy_generator and server_cpu < SATURATED * server_cores
    requests, failures, rps, p50, p95, p99 = figures
    return Measurement(
        run.key, repeat, generator, requests, failures, rps, p50, p95, p99,
        round(server_cpu, 3), round(generator_cpu, 3), round(seconds, 2), exit_code, generator_bound,
    )  # fmt: skip


def new_results_folder(base: Path | None = None) -> Path:
    """benchmarks/results/<timestamp>/, created."""
    folder = (base or ROOT / "benchmarks" / "results") / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def scratch_folder() -> Path:
    """A temporary folder for throwaway runs (the tests' smoke runs)."""
    return Path(tempfile.mkdtemp(prefix="bench-"))
