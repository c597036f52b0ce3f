"""The report's checks: ratios measured side by side, and what a generator-bound figure can still prove."""

from __future__ import annotations

import pytest

from harness.report.checks import Check, blocking_check, checks, io_check, pool_check, ratio_check, threadpool_check
from harness.report.summary import Summary
from harness.scenarios import SCENARIOS, SUITES, Run, queries_at_once
from launcher import CONFIGS, ROOT
from launcher.catalog import GUNICORN_GEVENT, GUNICORN_GTHREAD, GUNICORN_SYNC_N, SYNC_WORKERS, UVICORN


def summary(server: str, scenario: str, rps: float, users: int = 50, generator_bound: bool = False) -> Summary:
    """A run measured once at `rps` requests/s."""
    repeat = {"rps": rps, "failures": 0, "generator_bound": generator_bound, "p50_ms": 1.0, "p99_ms": 2.0}
    return Summary(Run(server, scenario, users), [repeat])


@pytest.mark.parametrize(
    ("ours_bound", "reference_bound", "ours", "verdict"),
    [
        pytest.param(False, False, 950, "pass", id="both-server-bound-pass"),
        pytest.param(False, False, 850, "FAIL", id="both-server-bound-fail"),
        # ours is a lower bound: a pass stands, a fail cannot be told from the generator's limit
        pytest.param(True, False, 950, "pass", id="ours-generator-bound-pass"),
        pytest.param(True, False, 850, "inconclusive", id="ours-generator-bound-low"),
        # the reference is a lower bound, so the ratio is an upper bound: a fail stands
        pytest.param(False, True, 850, "FAIL", id="reference-generator-bound-fail"),
        pytest.param(False, True, 950, "inconclusive", id="reference-generator-bound-high"),
        pytest.param(True, True, 950, "inconclusive", id="both-generator-bound"),
    ],
)
def test_ratio_check_says_only_what_the_figures_prove(
    ours_bound: bool, reference_bound: bool, ours: float, verdict: str
) -> None:
    check = ratio_check(
        "ours ≥ 0.9 × bare",
        summary("uvicorn", "hello", ours, generator_bound=ours_bound),
        summary("bare-fastapi", "hello", 1000, generator_bound=reference_bound),
        0.9,
    )
    assert check.verdict == verdict
    assert check.detail.startswith(f"{ours:,.0f} / 1,000 requests/s = {ours / 1000:.2f}, needs ≥ 0.9")


def test_a_ratio_with_a_side_missing_is_not_measured() -> None:
    assert ratio_check("x", None, summary("bare-fastapi", "hello", 1000), 0.9) == Check(
        "x", None, "not measured in this run"
    )


@pytest.mark.parametrize(("rps", "verdict"), [(990.0, "pass"), (500.0, "FAIL")])
def test_io_check_wants_nine_tenths_of_the_ideal_rate(rps: float, verdict: str) -> None:
    assert io_check([summary("uvicorn", "iowait", rps, users=100)]).verdict == verdict


@pytest.mark.parametrize(("rps", "verdict"), [(9.9, "pass"), (40.0, "FAIL")])
def test_blocking_check_wants_one_request_at_a_time(rps: float, verdict: str) -> None:
    assert blocking_check([summary("uvicorn", "blocking", rps, users=20)]).verdict == verdict


@pytest.mark.parametrize(("top", "verdict"), [(396.0, "pass"), (700.0, "FAIL")])
def test_threadpool_check_wants_the_pool_size_as_a_ceiling(top: float, verdict: str) -> None:
    runs = [summary("uvicorn", "threadpool", 99, users=10), summary("uvicorn", "threadpool", top, users=100)]
    assert threadpool_check(runs).verdict == verdict


@pytest.mark.parametrize(
    ("server", "scenario", "users", "at_once"),
    [
        pytest.param(UVICORN.id, "pool", 100, 10, id="event-loop-bound-by-its-pool"),
        pytest.param(UVICORN.id, "pool-100", 50, 50, id="event-loop-bound-by-its-users"),
        pytest.param(UVICORN.id, "pool-blocking", 10, 1, id="event-loop-held-by-a-blocking-driver"),
        pytest.param(GUNICORN_GTHREAD.id, "pool", 100, 10, id="threads-bound-by-the-pool"),
        pytest.param(GUNICORN_GTHREAD.id, "pool-50", 100, 32, id="a-larger-pool-bound-by-32-threads"),
        pytest.param(GUNICORN_GEVENT.id, "pool-50", 100, 50, id="greenlets-bound-by-the-pool"),
        pytest.param(GUNICORN_SYNC_N.id, "pool-50", 100, SYNC_WORKERS, id="sync-workers-one-query-each"),
        pytest.param(UVICORN.id, "iowait", 100, None, id="not-a-pool-scenario"),
    ],
)
def test_queries_at_once_are_the_pool_unless_the_server_runs_fewer(
    server: str, scenario: str, users: int, at_once: int | None
) -> None:
    assert queries_at_once(Run(server, scenario, users)) == at_once


@pytest.mark.parametrize(("sync_rps", "verdict"), [(48.0, "pass"), (95.0, "FAIL")])
def test_pool_check_wants_each_row_near_its_prediction(sync_rps: float, verdict: str) -> None:
    # five sync workers run five queries at once: 50/s, however large the pool
    runs = [summary(UVICORN.id, "pool", 97, users=100), summary(GUNICORN_SYNC_N.id, "pool", sync_rps, users=100)]
    assert pool_check(runs).verdict == verdict


def test_every_check_is_reported_even_when_nothing_was_measured() -> None:
    assert {check.verdict for check in checks([])} == {"not measured"}


def test_every_suite_names_known_configurations_scenarios_and_files() -> None:
    for runs in SUITES.values():
        for run in runs:
            assert run.server in CONFIGS
            assert (ROOT / SCENARIOS[run.scenario].locustfile).is_file()
    for scenario in SCENARIOS.values():
        assert scenario.wrk_script is None or (ROOT / "benchmarks" / "wrk" / scenario.wrk_script).is_file()
    assert {run.scenario for run in SUITES["demo"]} == {"hello", "iowait", "blocking", "merge"}
