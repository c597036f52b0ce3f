"""MkDocs hook: the charts on the site are the committed reference runs' own files, added when the site is built.

The pages link `results/throughput-hello.png`; nothing under docs/ holds a copy, so a chart cannot drift
from the run it belongs to. Run the reference again (docs/results/index.md says how) and the next build
shows the new charts.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
# each committed reference run, and where its charts appear on the site
REFERENCE_RUNS = {
    "benchmarks/results/reference": "results",
    "benchmarks/results/reference-wrk": "results/wrk",
    "benchmarks/results/reference-pause": "figures",
    "benchmarks/results/reference-lock": "results/lock",
    "benchmarks/results/reference-streams": "figures/streams",
    "benchmarks/results/reference-timelines": "figures/timelines",
    "benchmarks/results/reference-mix": "results/mix",
    "benchmarks/results/reference-streams-mix": "figures/streams-mix",
    "benchmarks/results/reference-timelines-mix": "figures/timelines",
    "benchmarks/results/reference-soak": "figures/soak",
    "benchmarks/results/reference-pool": "results/pool",
    "benchmarks/results/reference-open": "results/open",
}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every chart of every reference run to the site, at its place under results/."""
    for run, site_folder in REFERENCE_RUNS.items():
        for chart in sorted((ROOT / run).glob("*.png")):
            files.append(File.generated(config, f"{site_folder}/{chart.name}", abs_src_path=str(chart)))
    return files
