"""Read what a load generator wrote: Locust's --json-file and wrk's summary, as one kind of figures."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadFigures:
    """What one load run counted, whichever generator ran it."""

    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None  # wrk reports p90, not p95: None for wrk runs
    p99_ms: float | None


def percentile(histogram: Counter[float], fraction: float) -> float:
    """The smallest value at or below which `fraction` of the counted values lie."""
    wanted, seen = fraction * sum(histogram.values()), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= wanted:
            return value
    return max(histogram)


def read_locust_stats(path: Path) -> LoadFigures:
    """Every row of a Locust --json-file together: requests, failures, requests/s and percentiles."""
    # --json-file holds the final figures; the --csv files are rewritten each second and miss the last one
    entries = json.loads(path.read_text())
    requests = sum(entry["num_requests"] for entry in entries)
    failures = sum(entry["num_failures"] for entry in entries)
    if requests == 0:
        return LoadFigures(0, failures, 0.0, None, None, None)
    elapsed = max(entry["last_request_timestamp"] for entry in entries) - min(entry["start_time"] for entry in entries)
    # Locust keeps each endpoint's response times as a histogram of rounded milliseconds; merge them
    histogram: Counter[float] = Counter()
    for entry in entries:
        histogram.update({float(ms): count for ms, count in entry["response_times"].items()})
    return LoadFigures(
        requests,
        failures,
        requests / max(elapsed, 1e-9),
        percentile(histogram, 0.5),
        percentile(histogram, 0.95),
        percentile(histogram, 0.99),
    )


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_TOTAL = re.compile(r"(\d+) requests in")
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
# printed by a Lua script that judges the answers itself (benchmarks/wrk/merge.lua: a 409 is expected there)
WRK_UNEXPECTED = re.compile(r"Unexpected responses: (\d+)")
WRK_LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> LoadFigures:
    """wrk's summary (with --latency): requests, failures, requests/s, p50 and p99."""
    total, rps = WRK_TOTAL.search(output), WRK_RPS.search(output)
    if total is None or rps is None:
        raise ValueError(f"could not read wrk's output:\n{output}")
    latency = {int(point): float(value) * WRK_UNITS[unit] for point, value, unit in WRK_LATENCY.findall(output)}
    judged = WRK_UNEXPECTED.search(output) or WRK_NON_2XX.search(output)
    failures = int(judged.group(1)) if judged else 0
    # a read error is a connection the server closed; Gunicorn's sync worker closes after every answer,
    # which wrk counts only when it had already sent the next request: judged by the Lua script, not here
    socket_errors = WRK_SOCKET_ERRORS.search(output)
    if socket_errors:
        connect, _read, _write, timeout = (int(count) for count in socket_errors.groups())
        failures += connect + timeout
    return LoadFigures(int(total.group(1)), failures, float(rps.group(1)), latency.get(50), None, latency.get(99))
