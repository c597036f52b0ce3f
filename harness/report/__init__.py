"""The report of a harness run: environment, summaries, tables, checks and charts, one module each."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.report.charts import draw_all
from harness.report.checks import checks
from harness.report.summary import Summary, summarize
from harness.report.tables import report_markdown
from harness.scenarios import Run

__all__ = ["write_report"]


def write_report(
    folder: Path, runs: list[Run], measurements: list[dict[str, Any]], env: dict[str, Any], skipped: list[str]
) -> list[Summary]:
    """Write results.json, the charts and report.md into `folder`; return the summaries."""
    document = {
        "environment": env,
        "runs": [asdict(run) | {"key": run.key} for run in runs],
        "skipped": skipped,
        "measurements": measurements,
    }
    (folder / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    summaries = summarize(runs, measurements)
    drawn = draw_all(summaries, folder)
    (folder / "report.md").write_text(report_markdown(summaries, env, drawn, skipped, checks(summaries)))
    return summaries
