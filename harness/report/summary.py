"""The repeats of one run, reduced to a median and a spread."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from harness.scenarios import SCENARIOS, Run, queries_at_once


@dataclass
class Summary:
    """A run and what each of its repeats measured."""

    run: Run
    repeats: list[dict[str, Any]]

    def median(self, name: str) -> float | None:
        """The median of one figure over the repeats (None if no repeat has it)."""
        values = [repeat[name] for repeat in self.repeats if repeat[name] is not None]
        return statistics.median(values) if values else None

    @property
    def rps(self) -> float:
        """Median requests per second."""
        return self.median("rps") or 0.0

    @property
    def spread(self) -> tuple[float, float]:
        """Lowest and highest requests per second over the repeats."""
        values = [repeat["rps"] for repeat in self.repeats]
        return min(values), max(values)

    @property
    def failures(self) -> int:
        """Failures over all repeats."""
        return sum(repeat["failures"] for repeat in self.repeats)

    @property
    def generator_bound(self) -> bool:
        """True if any repeat was limited by the load generator rather than the server."""
        return any(repeat["generator_bound"] for repeat in self.repeats)

    @property
    def label(self) -> str:
        """The run as a chart labels it."""
        return f"{self.run.server} ({self.run.users} users)" + (" + access log" if self.run.access_log else "")


def summarize(runs: list[Run], measurements: list[dict[str, Any]]) -> list[Summary]:
    """Group the measurements of each run."""
    return [Summary(run, [m for m in measurements if m["run"] == run.key]) for run in runs]


def find(summaries: list[Summary], server: str, scenario: str, users: int | None = None) -> Summary | None:
    """The measured run of `server` under `scenario` (with `users`, if given), access log off."""
    for summary in summaries:
        run = summary.run
        same = (run.server, run.scenario, run.access_log) == (server, scenario, False)
        if same and users in (None, run.users) and summary.repeats:
            return summary
    return None


def measures_async_views(summaries: list[Summary]) -> bool:
    """Whether the run measured /lab/async-io: the mix suite, the only one whose table and chart draw every row."""
    return any(summary.run.scenario == "asyncwait" and summary.repeats for summary in summaries)


def lab_ms(scenario: str) -> int | None:
    """What each request of a /lab scenario spends, or None (a results.json older than a rename: unknown)."""
    known = SCENARIOS.get(scenario)
    return known.lab_ms if known else None


def throughput_rows(summaries: list[Summary], scenario: str) -> list[Summary]:
    """The runs a scenario's throughput chart and table draw: every measured run, but those with the access log on,
    which the access-log chart compares with the same server's run without it."""
    return [s for s in summaries if s.run.scenario == scenario and not s.run.access_log and s.repeats]


def predicted_rps(summary: Summary) -> float | None:
    """What the pool predicts for a run of a pool scenario: queries at once * 1000 / ms; None for another run."""
    at_once, spent = queries_at_once(summary.run), lab_ms(summary.run.scenario)
    return at_once * 1000 / spent if at_once and spent else None
