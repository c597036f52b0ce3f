"""The open-loop generator (harness/openloop.py) against a server whose capacity is known in advance.

Four Gunicorn sync workers, each answering GET /lab/io?ms=50 after 50 ms, serve at most 4 / 0.05 = 80
requests a second. Below that rate an open loop should see each request take about 50 ms; above it, the queue
grows for as long as the load lasts, so the later requests wait longer than the earlier ones, and a closed loop
would have hidden it. The figures are read as shapes, with wide margins: the machine has two cores, shared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.openload import open_loop
from launcher import free_port, run_server
from launcher.catalog import GUNICORN_SYNC_1

WORKERS = 4
WAIT_MS = 50
CAPACITY = WORKERS * 1000 / WAIT_MS  # requests a second
SECONDS = 3


@pytest.fixture(scope="module")
def wait_url() -> Iterator[str]:
    """/lab/io?ms=50 on four sync workers: a known concurrency, a known wait."""
    row = replace(GUNICORN_SYNC_1, id=f"gunicorn-sync-w{WORKERS}", workers=WORKERS)
    with run_server(row, {"LOG_LEVEL": "warning"}) as server, httpx.Client(base_url=server.url) as client:
        for _ in range(4 * WORKERS):  # each worker's first requests, as the harness warms a server up
            client.get("/lab/io?ms=0").raise_for_status()
        yield f"{server.url}/lab/io?ms={WAIT_MS}"


def run(url: str, share: float, tmp_path: Path, seconds: float = SECONDS, connections: int = 500) -> dict[str, Any]:
    """The generator at `share` of the capacity, unpinned (the tests share both cores): its figures."""
    return open_loop(url, share * CAPACITY, seconds, tmp_path / "openloop.log", None, connections)


def test_below_capacity_every_request_takes_about_the_wait(wait_url: str, tmp_path: Path) -> None:
    figures = run(wait_url, 0.5, tmp_path)
    assert (figures["ok"], figures["unsent"], figures["failures"]) == (figures["scheduled"], 0, {})
    latency = figures["latency_ms"]
    assert WAIT_MS <= latency["p50"] < WAIT_MS + 15
    # bounded: no queue builds up (a stall of the shared machine may still take a request or two to 200 ms)
    assert latency["p99"] < 5 * WAIT_MS
    # no second is worse than the first: nothing accumulates
    assert all(second["p50"] < WAIT_MS + 30 for second in figures["by_second"])
    assert figures["achieved_rps"] == pytest.approx(0.5 * CAPACITY, rel=0.1)


def test_above_capacity_the_later_requests_wait_longer(wait_url: str, tmp_path: Path) -> None:
    figures = run(wait_url, 1.3, tmp_path)
    # every request was sent on time and answered: the wait is the server's queue, not the generator's
    assert (figures["ok"], figures["unsent"], figures["failures"]) == (figures["scheduled"], 0, {})
    assert figures["send_lag_ms"]["p99"] < WAIT_MS
    # the server answers no faster than its capacity, whatever is offered
    assert figures["achieved_rps"] < 1.1 * CAPACITY < figures["offered_rps"]
    first, *_, last = figures["by_second"]
    # the queue grows by about 24 requests a second, 0.3 s of waiting more each second
    assert last["p50"] > first["p50"] + 250
    assert figures["latency_ms"]["p99"] > 6 * WAIT_MS
    # measured from sending, as a closed loop would, the same requests took as long: they queued at the server
    assert figures["service_ms"]["p99"] > 6 * WAIT_MS


def test_requests_due_while_every_connection_is_busy_are_counted_unsent(wait_url: str, tmp_path: Path) -> None:
    # one connection carries at most 1000 / 50 = 20 requests a second: of 40 offered, about half find it busy
    figures = run(wait_url, 0.5, tmp_path, seconds=1.5, connections=1)
    assert figures["unsent"] > 0.2 * figures["scheduled"]
    assert figures["sent"] + figures["unsent"] == figures["scheduled"]
    assert figures["ok"] == figures["sent"]


def test_a_refused_connection_is_a_failure_not_a_latency(tmp_path: Path) -> None:
    figures = open_loop(f"http://127.0.0.1:{free_port()}/", 20, 0.5, tmp_path / "openloop.log", None)
    assert figures["ok"] == 0
    assert figures["failures"] == {"connection refused": figures["scheduled"]}
    assert figures["latency_ms"]["p99"] is None
