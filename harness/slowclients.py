"""Slow clients (slowloris) beside ordinary requests: how many it takes to stall a server.

A slow client sends the start of a request and then one more header byte every half second, never finishing
it; the probe sends a few ordinary `GET /public/test` at once and counts the answers within a timeout.
`python -m benchmarks.slowclients` measures every configuration with these; tests/limits/ shows the lesson.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from launcher import HOST, wait_for

# the start of a request that never ends: the header X-Slow grows by one byte per interval
SLOW_REQUEST_START = b"GET /public/test HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class SlowClients:
    """`count` connections that each send the start of a request, then one header byte per `interval`, forever."""

    def __init__(self, url: str, count: int, interval: float = 0.5) -> None:
        parts = urlsplit(url)
        self.address = (parts.hostname or HOST, parts.port or 80)
        self.count = count
        self.interval = interval
        self.sockets: list[socket.socket] = []
        self.closed: set[int] = set()  # indexes of the connections the server has closed
        self._stopping = threading.Event()
        self._trickler = threading.Thread(target=self._trickle, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            connection = socket.create_connection(self.address, timeout=10)
            connection.sendall(SLOW_REQUEST_START)
            self.sockets.append(connection)
        self._trickler.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stopping.set()
        if self._trickler.is_alive():
            self._trickler.join()
        for connection in self.sockets:
            connection.close()

    def _trickle(self) -> None:
        while not self._stopping.wait(self.interval):
            for index, connection in enumerate(self.sockets):
                if index not in self.closed:
                    try:
                        connection.sendall(b"a")
                    except OSError:
                        self.closed.add(index)

    def still_open(self) -> int:
        """How many of the connections the server has not closed (as far as a write can tell)."""
        return self.count - len(self.closed)


@dataclass
class ProbeResult:
    """What happened to the ordinary requests sent while the slow clients trickled."""

    sent: int
    statuses: dict[str, int] = field(default_factory=dict)  # "200", "503", "timeout", "error"
    latencies_ms: list[float] = field(default_factory=list)  # of the 200s

    @property
    def answered(self) -> int:
        """How many got a 200 within the timeout."""
        return self.statuses.get("200", 0)

    def cell(self) -> str:
        """The table cell: 200s out of requests sent, and their median latency."""
        median = f", {statistics.median(self.latencies_ms):.0f} ms" if self.latencies_ms else ""
        other = ", ".join(f"{count}× {status}" for status, count in sorted(self.statuses.items()) if status != "200")
        return f"{self.answered}/{self.sent}{median}" + (f" ({other})" if other else "")


def probe(url: str, requests: int, timeout: float) -> ProbeResult:
    """Send `requests` GET /public/test at once, each on its own connection; count the 200s within `timeout`."""
    # clients made beforehand: making one (its SSL context) costs more than the request being timed
    clients = [httpx.Client(timeout=timeout) for _ in range(requests)]

    def one(client: httpx.Client) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            status = str(client.get(f"{url}/public/test").status_code)
        except httpx.TimeoutException:
            status = "timeout"
        except httpx.HTTPError:
            status = "error"
        return status, (time.perf_counter() - started) * 1000

    try:
        with ThreadPoolExecutor(requests) as pool:
            outcomes = list(pool.map(one, clients))
    finally:
        for client in clients:
            client.close()
    return ProbeResult(
        requests,
        dict(Counter(status for status, _ in outcomes)),
        [round(ms, 1) for status, ms in outcomes if status == "200"],
    )


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether GET /public/test gets a 200 within `timeout`."""
    try:
        return httpx.get(f"{url}/public/test", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


DEFAULT_COUNTS = (0, 1, 2, 5, 10, 50)


@dataclass(frozen=True)
class SlowClientOptions:
    """How many slow clients to try, how they behave, and how the probe judges the server."""

    counts: tuple[int, ...] = DEFAULT_COUNTS
    probes: int = 5
    probe_timeout: float = 2.0
    interval: float = 0.5
    settle: float = 0.5


@dataclass
class Cell:
    """One measurement: a server, reached directly or through nginx, with `slow_clients` trickling."""

    server: str
    via: str  # "direct" or "nginx"
    slow_clients: int
    probe: ProbeResult
    slow_still_open: int
    recovered_seconds: float


def measure_target(server: str, via: str, url: str, options: SlowClientOptions) -> list[Cell]:
    """Every count of slow clients against one running target, the server's answers to the probes each time."""
    cells = []
    for count in options.counts:
        with SlowClients(url, count, options.interval) as slow:
            # let the server accept them (and a sync worker start waiting on one) before the probes queue up
            time.sleep(options.settle)
            result = probe(url, options.probes, options.probe_timeout)
            still_open = slow.still_open()
        left = time.monotonic()
        wait_for(lambda: answers(url), 60, f"{url} to answer again once the slow clients left", interval=0)
        cell = Cell(server, via, count, result, still_open, round(time.monotonic() - left, 2))
        cells.append(cell)
        print(f"  {server:<30} {via:<6} {count:>3} slow clients: {result.cell()}", flush=True)
    return cells


def markdown_table(cells: list[Cell], options: SlowClientOptions) -> str:
    """One row per server and route, one column per count of slow clients."""
    counts = options.counts
    header = "| server | via | " + " | ".join(f"{count} slow" for count in counts) + " |"
    lines = [header, "|" + " --- |" * (len(counts) + 2)]
    rows: dict[tuple[str, str], dict[int, str]] = {}
    for cell in cells:
        rows.setdefault((cell.server, cell.via), {})[cell.slow_clients] = cell.probe.cell()
    for (server, via), by_count in rows.items():
        lines.append(f"| {server} | {via} | " + " | ".join(by_count.get(count, "") for count in counts) + " |")
    legend = (
        f"Each cell: how many of {options.probes} concurrent `GET /public/test` got a 200 within "
        f"{options.probe_timeout:g} s, and their median latency; other outcomes in brackets."
    )
    return "\n".join(lines) + "\n\n" + legend + "\n"
