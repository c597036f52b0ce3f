"""Turn measurements into results.json, report.md with tables and checks, and PNG charts."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # draw to files; no display here
import matplotlib.pyplot as plt

from benchmarks.configs import CORES, SERVERS, Run

PACKAGES = [
    "fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools", "flask", "werkzeug", "flask-openapi3",
    "gunicorn", "granian", "hypercorn", "waitress", "gevent", "uvicorn-worker", "locust", "redis",
]  # fmt: skip


def environment(settings: dict[str, Any]) -> dict[str, Any]:
    """The machine, the versions and the settings, so that a reader can tell what the figures mean."""
    cpu_model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        wrk = None
    return {
        "cpu_model": cpu_model,
        "cores": CORES,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "wrk": wrk,
        "settings": settings,
    }


@dataclass
class Summary:
    """The repeats of one run, reduced to a median and a spread."""

    run: Run
    repeats: list[dict[str, Any]]

    def median(self, name: str) -> float | None:
        """The median of one figure over the repeats (None if no repeat has it)."""
        values = [r[name] for r in self.repeats if r[name] is not None]
        return statistics.median(values) if values else None

    @property
    def rps(self) -> float:
        """Median requests per second."""
        return self.median("rps") or 0.0

    @property
    def spread(self) -> tuple[float, float]:
        """Lowest and highest requests per second over the repeats."""
        values = [r["rps"] for r in self.repeats]
        return min(values), max(values)

    @property
    def failures(self) -> int:
        """Failures over all repeats."""
        return sum(r["failures"] for r in self.repeats)

    @property
    def generator_bound(self) -> bool:
        """True if any repeat was limited by the load generator rather than the server."""
        return any(r["generator_bound"] for r in self.repeats)


def summarize(runs: list[Run], measurements: list[dict[str, Any]]) -> list[Summary]:
    """Group the measurements of each run."""
    return [Summary(run, [m for m in measurements if m["run"] == run.key]) for run in runs]


def _find(summaries: list[Summary], server: str, scenario: str, users: int | None = None) -> Summary | None:
    for summary in summaries:
        run = summary.run
        same = (run.server, run.scenario, run.access_log) == (server, scenario, False)
        if same and users in (None, run.users) and summary.repeats:
            return summary
    return None


@dataclass
class Check:
    """One ratio from the same run, with its threshold."""

    name: str
    passed: bool | None  # None: not measured in this suite, or inconclusive
    detail: str

    @property
    def verdict(self) -> str:
        """pass, FAIL, inconclusive (the figures cannot decide) or not measured."""
        if self.passed is None:
            return "not measured" if self.detail.startswith("not measured") else "inconclusive"
        return "pass" if self.passed else "FAIL"


def checks(summaries: list[Summary]) -> list[Check]:
    """The checks the report ends with; each compares figures measured side by side in this run."""
    results: list[Check] = []

    def ratio_check(name: str, ours: Summary | None, reference: Summary | None, threshold: float) -> None:
        if ours is None or reference is None or reference.rps == 0:
            results.append(Check(name, None, "not measured in this suite"))
            return
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
        results.append(Check(name, passed, detail))

    ratio_check(
        "our FastAPI GET /public/test ≥ 0.9 × bare FastAPI (uvicorn)",
        _find(summaries, "uvicorn", "hello"), _find(summaries, "bare-fastapi", "hello"), 0.9,
    )  # fmt: skip
    ratio_check(
        "our Flask GET /public/test ≥ 0.9 × bare Flask (gunicorn sync, 1 worker)",
        _find(summaries, "gunicorn-sync-w1", "hello"), _find(summaries, "bare-flask", "hello"), 0.9,
    )  # fmt: skip

    io = _find(summaries, "uvicorn", "io", 100)
    if io is None:
        results.append(
            Check("uvicorn 1 worker, /lab/io?ms=100, 100 users ≥ 0.9 × 1000 requests/s", None, "not measured")
        )
    else:
        others = [
            f"{name} {s.rps:,.1f}/s"
            for name in ["gunicorn-sync-w1", "gunicorn-gthread"]
            if (s := _find(summaries, name, "io", 100))
        ]
        beside = f"; beside: {', '.join(others)}" if others else ""
        results.append(
            Check(
                "uvicorn 1 worker, /lab/io?ms=100, 100 users ≥ 0.9 × the ideal 1000 requests/s",
                io.rps >= 900,
                f"{io.rps:,.0f} requests/s{beside}",
            )
        )

    blocking = [s for s in summaries if s.run.server == "uvicorn" and s.run.scenario == "blocking" and s.repeats]
    if not blocking:
        results.append(Check("/lab/blocking on uvicorn falls to one request at a time (≤ 10/s)", None, "not measured"))
    else:
        # one request at a time, 100 ms each: at most 10 per second, whatever the number of users
        figures = ", ".join(f"{s.run.users} users {s.rps:.1f}/s" for s in blocking)
        results.append(
            Check(
                "/lab/blocking on uvicorn falls to one request at a time (≤ 1.1 × 10 requests/s)",
                max(s.rps for s in blocking) <= 11,
                figures,
            )
        )

    pool = [s for s in summaries if s.run.server == "uvicorn" and s.run.scenario == "threadpool" and s.repeats]
    if len(pool) < 2:
        results.append(
            Check("/lab/threadpool levels off at the pool size (40 threads → ≤ 400/s)", None, "not measured")
        )
    else:
        top = max(pool, key=lambda s: s.run.users)
        figures = ", ".join(f"{s.run.users} users {s.rps:,.0f}/s" for s in pool)
        # 40 threads, 100 ms each: at most 400 per second however many users wait
        results.append(
            Check("/lab/threadpool levels off at the pool size (40 threads → ≤ 1.1 × 400/s)", top.rps <= 440, figures)
        )

    for server in ["uvicorn", "gunicorn-sync-w1"]:
        ratio_check(
            f"busy POST /merge (409) ≥ 0.7 × GET /public/test on {server}",
            _find(summaries, server, "merge"), _find(summaries, server, "hello"), 0.7,
        )  # fmt: skip
    return results


def _label(summary: Summary) -> str:
    run = summary.run
    return f"{run.server} ({run.users} users)" + (" +access log" if run.access_log else "")


def charts(summaries: list[Summary], folder: Path) -> list[Path]:
    """Draw the charts: throughput per scenario, latency percentiles, the I/O curve, the access log's cost."""
    drawn: list[Path] = []
    measured = [s for s in summaries if s.repeats]
    for scenario in sorted({s.run.scenario for s in measured}):
        rows = [s for s in measured if s.run.scenario == scenario and not s.run.access_log]
        if not rows:
            continue
        rows.sort(key=lambda s: s.rps)
        figure, axes = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6))
        low = [s.rps - s.spread[0] for s in rows]
        high = [s.spread[1] - s.rps for s in rows]
        colors = [
            "#9e9e9e"
            if SERVERS[s.run.server].baseline
            else "#1976d2"
            if SERVERS[s.run.server].interface == "asgi"
            else "#e65100"
            for s in rows
        ]
        bars = axes.barh([_label(s) for s in rows], [s.rps for s in rows], xerr=[low, high], color=colors)
        for bar, summary in zip(bars, rows, strict=True):
            if summary.generator_bound:
                bar.set_hatch("//")
        axes.set_xlabel("requests/s (median, bars show min–max over repeats; hatched = generator-bound)")
        axes.set_title(f"{scenario}: throughput (blue ASGI, orange WSGI, grey baselines)")
        figure.tight_layout()
        path = folder / f"throughput-{scenario}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        drawn.append(path)

    for scenario in ["hello", "io"]:
        rows = [
            s
            for s in measured
            if s.run.scenario == scenario and not s.run.access_log and s.median("p50_ms") is not None
        ]
        if not rows:
            continue
        figure, axes = plt.subplots(figsize=(9, 0.5 * len(rows) + 1.6))
        positions = range(len(rows))
        for offset, (name, color) in enumerate([("p50_ms", "#90caf9"), ("p95_ms", "#1e88e5"), ("p99_ms", "#0d47a1")]):
            values = [s.median(name) or 0 for s in rows]
            axes.barh(
                [p + offset * 0.27 for p in positions], values, height=0.27, label=name.replace("_ms", ""), color=color
            )
        axes.set_yticks([p + 0.27 for p in positions], [_label(s) for s in rows])
        axes.set_xlabel("latency, ms (median over repeats)")
        axes.set_xscale("log")
        axes.legend()
        axes.set_title(f"{scenario}: latency percentiles")
        figure.tight_layout()
        path = folder / f"latency-{scenario}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        drawn.append(path)

    curve = [s for s in measured if s.run.scenario == "io" and not s.run.access_log]
    curve_servers = sorted({s.run.server for s in curve if sum(1 for o in curve if o.run.server == s.run.server) > 1})
    if curve_servers:
        figure, axes = plt.subplots(figsize=(8, 5))
        users = sorted({s.run.users for s in curve})
        axes.plot(users, [u * 10 for u in users], "k:", label="ideal: users × 10/s (100 ms each)")
        for server in curve_servers:
            points = sorted((s.run.users, s.rps) for s in curve if s.run.server == server)
            axes.plot([p[0] for p in points], [p[1] for p in points], "o-", label=server)
        axes.set_xlabel("concurrent users")
        axes.set_ylabel("requests/s")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.legend()
        axes.set_title("/lab/io?ms=100: throughput as concurrency grows")
        figure.tight_layout()
        path = folder / "io-concurrency.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        drawn.append(path)

    logged = [s for s in measured if s.run.access_log]
    if logged:
        figure, axes = plt.subplots(figsize=(8, 0.9 * len(logged) + 1.6))
        labels, values, colors = [], [], []
        for summary in logged:
            plain = _find(measured, summary.run.server, summary.run.scenario, summary.run.users)
            if plain is None:
                continue
            labels += [f"{summary.run.server} log off", f"{summary.run.server} log on"]
            values += [plain.rps, summary.rps]
            colors += ["#43a047", "#c62828"]
        axes.barh(labels, values, color=colors)
        axes.set_xlabel("requests/s, GET /public/test (median)")
        axes.set_title("What the access log costs")
        figure.tight_layout()
        path = folder / "access-log.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        drawn.append(path)
    return drawn


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def markdown(summaries: list[Summary], env: dict[str, Any], drawn: list[Path], skipped: list[str]) -> str:
    """The report: environment, one table per scenario, the charts, then the checks."""
    lines = ["# Benchmark report", ""]
    lines += [
        f"Machine: {env['cpu_model']}, {env['cores']} cores, {env['memory_gib']} GiB; Python {env['python']}.",
        f"Settings: {json.dumps(env['settings'])}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v) + ".",
        "",
        "Every figure is the median over the repeats, each with a fresh server after a warm-up; the range is",
        "the lowest and highest repeat. **Generator-bound** marks a run whose load generator used its whole",
        "core while the server had CPU to spare: that figure is a lower bound for the server.",
        "",
    ]
    if skipped:
        lines += ["Skipped:", *[f"- {reason}" for reason in skipped], ""]
    for scenario in sorted({s.run.scenario for s in summaries if s.repeats}):
        lines += [
            f"## {scenario}",
            "",
            "| server | users | requests/s | range | p50 ms | p95 ms | p99 ms | fails | server CPU | gen. CPU | note |",
            "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for s in summaries:
            if s.run.scenario != scenario or not s.repeats:
                continue
            low, high = s.spread
            note = "generator-bound" if s.generator_bound else ""
            name = s.run.server + (" +access log" if s.run.access_log else "")
            lines.append(
                f"| {name} | {s.run.users} | {s.rps:,.1f} | {low:,.1f}–{high:,.1f} | {_ms(s.median('p50_ms'))} "
                f"| {_ms(s.median('p95_ms'))} | {_ms(s.median('p99_ms'))} | {s.failures} "
                f"| {s.median('server_cpu') or 0:.2f} | {s.median('generator_cpu') or 0:.2f} | {note} |"
            )
        lines.append("")
    if drawn:
        lines += ["## Charts", ""]
        lines += [f"![{path.stem}]({path.name})" for path in drawn]
        lines.append("")
    lines += ["## Checks", "", "| check | result | figures |", "| --- | --- | --- |"]
    for check in checks(summaries):
        verdict = "**FAIL**" if check.passed is False else check.verdict
        lines.append(f"| {check.name} | {verdict} | {check.detail} |")
    lines.append("")
    return "\n".join(lines)
