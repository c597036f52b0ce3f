"""Reading the load generators' output: wrk's summary and Locust's --json-file, into one kind of figures."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.parse import LoadFigures, parse_wrk, percentile, read_locust_stats

# wrk 4.1.0's summary, as it printed it for a Lua script that judges the answers (benchmarks/wrk/merge.lua)
WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:59739/merge
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   409.87us  116.50us   2.82ms   83.01%
    Req/Sec    24.49k     2.08k   30.52k    90.91%
  Latency Distribution
     50%  389.00us
     75%  412.00us
     90%  470.00us
     99%    1.80ms
  26715 requests in 1.10s, 5.04MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 26715
Requests/sec:  24285.04
Transfer/sec:      4.59MB
Unexpected responses: 4
"""


def test_wrk_summary_gives_requests_rate_and_percentiles() -> None:
    figures = parse_wrk(WRK_OUTPUT)
    # the script's own count of wrong answers wins over wrk's "Non-2xx" (a 409 is right there), and
    # timeouts count as failures; a read error is a connection the server closed, not a failure
    assert figures == LoadFigures(requests=26715, failures=4 + 2, rps=24285.04, p50_ms=0.389, p95_ms=None, p99_ms=1.8)


def test_wrk_without_a_script_counts_non_2xx_answers() -> None:
    output = WRK_OUTPUT.replace("Unexpected responses: 4\n", "").replace("timeout 2", "timeout 0")
    assert parse_wrk(output).failures == 26715


def test_wrk_output_that_is_not_a_summary_is_an_error() -> None:
    with pytest.raises(ValueError, match="could not read wrk's output"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def locust_entry(
    method: str, name: str, times: dict[str, int], failures: int, start: float, last: float
) -> dict[str, object]:
    """One row of Locust's --json-file, with the fields the harness reads."""
    return {
        "method": method,
        "name": name,
        "num_requests": sum(times.values()),
        "num_failures": failures,
        "start_time": start,
        "last_request_timestamp": last,
        "response_times": times,
    }


def test_locust_rows_are_added_up_and_their_histograms_merged(tmp_path: Path) -> None:
    rows = [
        locust_entry("GET", "/public/test", {"2": 60, "3": 30}, 0, start=100.0, last=109.0),
        locust_entry("POST", "/merge", {"5": 9, "40": 1}, 1, start=100.5, last=110.0),
    ]
    (tmp_path / "run.json").write_text(json.dumps(rows))
    figures = read_locust_stats(tmp_path / "run.json")
    # 100 requests over the 10 s from the first start to the last request
    assert figures == LoadFigures(requests=100, failures=1, rps=10.0, p50_ms=2.0, p95_ms=5.0, p99_ms=5.0)


def test_a_locust_run_with_no_requests_has_no_percentiles(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps([locust_entry("GET", "/", {}, 3, 1.0, 1.0)]))
    assert read_locust_stats(tmp_path / "run.json") == LoadFigures(0, 3, 0.0, None, None, None)


@pytest.mark.parametrize(("fraction", "value"), [(0.5, 1.0), (0.75, 2.0), (0.99, 9.0), (1.0, 9.0)])
def test_percentile_is_the_smallest_value_covering_the_fraction(fraction: float, value: float) -> None:
    assert percentile(Counter({1.0: 50, 2.0: 40, 9.0: 10}), fraction) == value
