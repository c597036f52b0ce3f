"""The checks a report ends with: each compares figures measured side by side in the same run."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.summary import Summary, find, predicted_rps
from launcher.catalog import BARE_FASTAPI, BARE_FLASK, GUNICORN_GTHREAD, GUNICORN_SYNC_1, UVICORN


@dataclass(frozen=True)
class Check:
    """One thing a run must show, and whether it did: the one kind of check of every report here."""

    name: str
    passed: bool | None  # None: not measured in this run, or the figures cannot decide
    detail: str

    @property
    def verdict(self) -> str:
        """pass, FAIL, inconclusive (the figures cannot decide) or not measured."""
        if self.passed is None:
            return "not measured" if self.detail.startswith("not measured") else "inconclusive"
        return "pass" if self.passed else "FAIL"


NOT_MEASURED = "not measured in this run"


def ratio_check(name: str, ours: Summary | None, reference: Summary | None, threshold: float) -> Check:
    """Ours ≥ `threshold` times the reference, in requests/s; a generator-bound side can only prove one way."""
    if ours is None or reference is None or reference.rps == 0:
        return Check(name, None, NOT_MEASURED)
    ratio = ours.rps / reference.rps
    detail = f"{ours.rps:,.0f} / {reference.rps:,.0f} requests/s = {ratio:.2f}, needs ≥ {threshold}"
    # a generator-bound figure is a lower bound for its server: which side it is on decides what the
    # ratio can still prove
    passed: bool | None = ratio >= threshold
    if ours.generator_bound and reference.generator_bound:
        passed = None
        detail += "; both runs generator-bound, so the ratio measures the load generator: run --generator wrk"
    elif ours.generator_bound:
        passed = True if ratio >= threshold else None
        detail += "; the first figure is generator-bound, so the ratio is a lower bound"
    elif reference.generator_bound:
        passed = False if ratio < threshold else None
        detail += "; the second figure is generator-bound, so the ratio is an upper bound"
    return Check(name, passed, detail)


def io_check(summaries: list[Summary]) -> Check:
    """One Uvicorn worker overlaps 100 waits of 100 ms: close to the ideal 1000 requests/s."""
    name = "uvicorn 1 worker, /lab/io?ms=100, 100 users ≥ 0.9 × the ideal 1000 requests/s"
    io = find(summaries, UVICORN.id, "iowait", 100)
    if io is None:
        return Check(name, None, NOT_MEASURED)
    others = [
        f"{server} {summary.rps:,.1f}/s"
        for server in [GUNICORN_SYNC_1.id, GUNICORN_GTHREAD.id]
        if (summary := find(summaries, server, "iowait", 100))
    ]
    beside = f"; beside: {', '.join(others)}" if others else ""
    return Check(name, io.rps >= 900, f"{io.rps:,.0f} requests/s{beside}")


def blocking_check(summaries: list[Summary]) -> Check:
    """A blocking call inside async def serves one request at a time: 100 ms each is at most 10 per second."""
    name = "/lab/blocking on uvicorn falls to one request at a time (≤ 1.1 × 10 requests/s)"
    runs = [s for s in summaries if s.run.server == UVICORN.id and s.run.scenario == "blocking" and s.repeats]
    if not runs:
        return Check(name, None, NOT_MEASURED)
    figures = ", ".join(f"{s.run.users} users {s.rps:.1f}/s" for s in runs)
    return Check(name, max(s.rps for s in runs) <= 11, figures)


def threadpool_check(summaries: list[Summary]) -> Check:
    """40 threads of 100 ms each serve at most 400 per second, however many users wait."""
    name = "/lab/threadpool levels off at the pool size (40 threads → ≤ 1.1 × 400/s)"
    runs = [s for s in summaries if s.run.server == UVICORN.id and s.run.scenario == "threadpool" and s.repeats]
    if len(runs) < 2:
        return Check(name, None, NOT_MEASURED)
    top = max(runs, key=lambda summary: summary.run.users)
    figures = ", ".join(f"{s.run.users} users {s.rps:,.0f}/s" for s in runs)
    return Check(name, top.rps <= 440, figures)


def pool_check(summaries: list[Summary]) -> Check:
    """With a pool of 10 per worker, each model serves what its queries at once predict: the pool decides."""
    name = "/lab/db?ms=100, pool of 10: each row within 0.8–1.1 × queries at once × 10/s"
    runs = [s for s in summaries if s.run.scenario in ("pool", "pool-blocking") and s.repeats]
    if not runs:
        return Check(name, None, NOT_MEASURED)
    ratios = [(summary, summary.rps / (predicted_rps(summary) or 1)) for summary in runs]
    figures = ", ".join(
        f"{s.run.server}{' (blocking)' if s.run.scenario == 'pool-blocking' else ''} {s.rps:,.1f}/s = {ratio:.2f} × "
        f"{predicted_rps(s):,.0f}"
        for s, ratio in ratios
    )
    return Check(name, all(0.8 <= ratio <= 1.1 for _, ratio in ratios), figures)


def bare_checks(summaries: list[Summary]) -> list[Check]:
    """Ours against the bare framework, one worker each: hello at least 0.95 of it, the busy 409 at least 0.85."""
    pairs = [
        (UVICORN.id, BARE_FASTAPI.id, "FastAPI", "uvicorn"),
        (GUNICORN_SYNC_1.id, BARE_FLASK.id, "Flask", "gunicorn sync"),
    ]
    hello = [
        ratio_check(
            f"our {framework} GET /public/test ≥ 0.95 × bare {framework} ({server}, 1 worker)",
            find(summaries, ours, "hello"),
            find(summaries, bare, "hello"),
            0.95,
        )
        for ours, bare, framework, server in pairs
    ]
    busy = [
        ratio_check(
            f"our {framework} busy POST /merge (409, {store}) ≥ 0.85 × bare {framework}'s 409 ({server}, 1 worker)",
            find(summaries, ours, scenario),
            find(summaries, bare, "merge"),
            0.85,
        )
        for ours, bare, framework, server in pairs
        for scenario, store in [("merge", "SQLite"), ("merge-redis", "Redis")]
    ]
    return hello + busy


def checks(summaries: list[Summary]) -> list[Check]:
    """Every check of the harness, in the order the report lists them."""
    return [
        *bare_checks(summaries),
        io_check(summaries),
        blocking_check(summaries),
        threadpool_check(summaries),
        pool_check(summaries),
    ]
