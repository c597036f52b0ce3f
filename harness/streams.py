"""The streams scenario: N clients hold `/merge/events` open while a hello client measures and a merger merges.

For each server configuration and each N (1, 10, 100, 1,000, 10,000), on a fresh server:

1. the stream holders (harness/streamholders.py, on the generator's core) open N streams; a stream is *held*
   once its `status` event has arrived. Past what the server holds (a sync worker holds one), they stop trying;
2. for `hold_seconds`, a hello client sends `GET /public/test` one after the other (2 s timeout each) and a
   merger starts a merge every `merge_every` seconds, noting when it sent each POST;
3. the holders report when each merge's `merge-started` event reached each stream: the delivery latency.

The server's memory (all its processes) is read before the streams open and once they are held: the memory per
open stream. A server that holds fewer streams than asked is at its ceiling, and larger N are not tried on it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

from harness.measure import cpu_split
from launcher import ServerConfig, bearer, checkout_token, run_server

COUNTS = [1, 10, 100, 1000, 10000]
SERVER_ENV = {"MERGE_SECONDS": "0.5", "LOG_LEVEL": "warning"}
HELLO_TIMEOUT = 2.0


@dataclass
class StreamsRun:
    """What one (server, N) run measured."""

    server: str
    requested: int
    held: int
    open_at_end: int
    refused: dict[str, int]
    hello_ok: int
    hello_failed: int
    hello_p50_ms: float | None
    hello_p99_ms: float | None
    merges: int
    deliveries: int  # (stream, merge) pairs whose event arrived
    expected_deliveries: int  # held streams x merges
    delivery_p50_ms: float | None
    delivery_p99_ms: float | None
    memory_per_stream_kib: float | None
    generator_cpu: float  # cores the stream holders used while holding
    generator_bound: bool
    seconds: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(values: list[float], share: float) -> float | None:
    """The `share` quantile (0.5, 0.99) of `values`, or None without any."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its children, in bytes."""
    try:
        root = psutil.Process(pid)
        return sum(process.memory_info().rss for process in [root, *root.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


class Hello(threading.Thread):
    """GET /public/test one after the other until told to stop: latencies and failures."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopping = url, threading.Event()
        self.latencies: list[float] = []
        self.failed = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=HELLO_TIMEOUT) as client:
            while not self.stopping.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get("/public/test").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.failed += 1


def merge(url: str, number: int) -> tuple[str, float] | None:
    """Start a merge: the id its start event carries, and the wall-clock time the POST was sent."""
    sent = time.time()
    try:
        body, headers = {"branch_name": f"streams/{number}"}, bearer(checkout_token())
        response = httpx.post(f"{url}/merge", json=body, headers=headers, timeout=HELLO_TIMEOUT)
    except httpx.HTTPError:
        return None
    if response.status_code != 202:
        return None
    return f"{response.json()['fencing_token']}-started", sent


def run_one(
    config: ServerConfig,
    streams: int,
    hold_seconds: float,
    merge_every: float,
    folder: Path,
    *,
    env: dict[str, str] | None = None,
) -> StreamsRun:
    """One fresh server with `streams` held open for `hold_seconds`; `env` adds to the server's SERVER_ENV."""
    split = cpu_split()
    began = time.monotonic()
    with run_server(config, {**SERVER_ENV, **(env or {})}, folder=folder, cpus=split.server) as server:
        before = tree_rss(server.pid)
        holder_command = [sys.executable, "-m", "harness.streamholders", server.url, str(streams)]
        holder_command += ["--connect-seconds", str(10 + streams / 250)]
        if split.generator:
            holder_command = ["taskset", "-c", split.generator, *holder_command]
        holders = subprocess.Popen(holder_command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holders.stdin is not None
        assert holders.stdout is not None
        try:
            held_line = holders.stdout.readline()
            held = int(held_line.split()[1]) if held_line.startswith("held ") else 0
            during = tree_rss(server.pid)
            generator = psutil.Process(holders.pid)
            generator.cpu_percent()
            hello = Hello(server.url)
            hello.start()
            sent: dict[str, float] = {}
            number = 0
            deadline = time.monotonic() + hold_seconds
            while time.monotonic() < deadline:
                number += 1
                if started := merge(server.url, number):
                    sent[started[0]] = started[1]
                time.sleep(max(0.0, min(merge_every, deadline - time.monotonic())))
            time.sleep(1.0)  # the last merge's events on their way
            generator_cpu = generator.cpu_percent() / 100
            hello.stopping.set()
            hello.join(HELLO_TIMEOUT + 1)
            holders.stdin.close()
            report = json.loads(holders.stdout.readline() or "{}")
        finally:
            if holders.poll() is None:
                holders.kill()
            holders.wait()
    arrivals: dict[str, list[float]] = report.get("arrivals", {})
    delays = [(at - sent[event_id]) * 1000 for event_id, times in arrivals.items() if event_id in sent for at in times]
    # below 100 streams, what the first stream starts (the watcher, a thread pool) outweighs the streams
    per_stream = (during - before) / held / 1024 if held >= 100 else None
    return StreamsRun(
        server=config.id,
        requested=streams,
        held=held,
        open_at_end=int(report.get("open_at_end", 0)),
        refused=report.get("refused", {}),
        hello_ok=len(hello.latencies),
        hello_failed=hello.failed,
        hello_p50_ms=percentile(hello.latencies, 0.5),
        hello_p99_ms=percentile(hello.latencies, 0.99),
        merges=len(sent),
        deliveries=len(delays),
        expected_deliveries=held * len(sent),
        delivery_p50_ms=percentile(delays, 0.5),
        delivery_p99_ms=percentile(delays, 0.99),
        memory_per_stream_kib=per_stream,
        generator_cpu=generator_cpu,
        # one core for the holders: near it, the figures are the generator's as much as the server's
        generator_bound=generator_cpu > 0.9,
        seconds=time.monotonic() - began,
    )


def run_server_counts(
    config: ServerConfig,
    counts: list[int],
    hold_seconds: float,
    merge_every: float,
    folder: Path,
    *,
    env: dict[str, str] | None = None,
) -> list[StreamsRun]:
    """Every N in turn, until the server holds fewer streams than asked: its ceiling."""
    runs = []
    for streams in counts:
        measured = run_one(config, streams, hold_seconds, merge_every, folder, env=env)
        runs.append(measured)
        if measured.held < streams:
            break
    return runs
