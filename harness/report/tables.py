"""The report's words and tables: report.md, and the table the terminal shows at the end of a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report.checks import Check
from harness.report.environment import KEY_PACKAGES
from harness.report.summary import Summary, find, lab_ms, measures_async_views, predicted_rps, throughput_rows
from harness.scenarios import MIX, SCENARIOS, pool_size, queries_at_once
from launcher import config
from launcher.catalog import framework


def milliseconds(value: float | None) -> str:
    """A latency for a table cell: one decimal, or a dash when there is none."""
    return "–" if value is None else f"{value:,.1f}"


def environment_lines(env: dict[str, Any]) -> list[str]:
    """What the run ran on, in a few lines."""
    versions = ", ".join(f"{name} {env['packages'][name]}" for name in KEY_PACKAGES if env["packages"].get(name))
    lock = f"all {len(env['packages'])} packages of requirements.lock installed at their locked versions"
    if "not_as_locked" not in env:  # a run from before the harness compared every package with the lock
        lock = "the other packages' versions were not recorded"
    elif env.get("not_as_locked"):
        lock = f"**not as locked**: {json.dumps(env['not_as_locked'])}: these figures are not comparable"
    return [
        f"Machine: {env['cpu_model']}, {env['cores']} cores, {env['memory_gib']} GiB; Python {env['python']}"
        f" (GIL {'enabled' if env.get('gil_enabled', True) else 'disabled'}).",
        f"Settings: {json.dumps(env['settings'])}.",
        f"Versions: {versions}; {lock}.",
    ]


def scenario_table(summaries: list[Summary], scenario: str) -> list[str]:
    """One row per run of `scenario`: median requests/s, range, percentiles, failures, CPU on both sides."""
    lines = [
        f"## {scenario}",
        "",
        "| server | users | requests/s | range | p50 ms | p95 ms | p99 ms | fails | server CPU | gen. CPU | note |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for summary in summaries:
        if summary.run.scenario != scenario or not summary.repeats:
            continue
        low, high = summary.spread
        name = summary.run.server + (" +access log" if summary.run.access_log else "")
        cells = [
            name,
            str(summary.run.users),
            f"{summary.rps:,.1f}",
            f"{low:,.1f}–{high:,.1f}",
            milliseconds(summary.median("p50_ms")),
            milliseconds(summary.median("p95_ms")),
            milliseconds(summary.median("p99_ms")),
            str(summary.failures),
            f"{summary.median('server_cpu') or 0:.2f}",
            f"{summary.median('generator_cpu') or 0:.2f}",
            "generator-bound" if summary.generator_bound else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


# the Mix and match table's columns: a scenario, and what its figure is
MIX_COLUMNS = [
    ("hello", "hello req/s"),
    ("iowait", "/lab/io, 100 users"),
    ("asyncwait", "/lab/async-io, 100 users"),
    ("blocking", "/lab/blocking, 10 users"),
]


def mix_table(summaries: list[Summary]) -> list[str]:
    """Every framework on every interface, one row each: requests/s of each scenario measured (median)."""
    rows = [server for server in MIX if any(find(summaries, server, scenario) for scenario, _ in MIX_COLUMNS)]
    # the table of the mix suite, the one suite that measures async views: other suites share a few of its rows
    if not rows or not measures_async_views(summaries):
        return []
    lines = [
        "## Mix and match",
        "",
        "<!-- --8<-- [start:mix] -->",
        "",
        "| framework | server | interface | " + " | ".join(title for _, title in MIX_COLUMNS) + " |",
        "| --- | --- | --- | " + " | ".join("---:" for _ in MIX_COLUMNS) + " |",
    ]
    for server in rows:
        row = config(server)
        cells = [framework(row), f"`{server}`", row.interface.upper()]
        for scenario, _ in MIX_COLUMNS:
            summary = find(summaries, server, scenario)
            if summary is None:
                cells.append("–")
                continue
            cell = f"{summary.rps:,.0f}" + (" ⁺" if summary.generator_bound else "")
            cells.append(cell + (f" ({summary.failures:,} failed)" if summary.failures else ""))
        lines.append("| " + " | ".join(cells) + " |")
    legend = (
        "Requests/s, median of the repeats; – not measured; ⁺ generator-bound, a lower bound for the server; "
        "failed: over all repeats, answers that were errors or that took longer than the generator's timeout "
        "(wrk: 2 s)."
    )
    lines += ["", legend, "<!-- --8<-- [end:mix] -->", ""]
    return lines


def pool_table(summaries: list[Summary]) -> list[str]:
    """Every pool run against its prediction: the queries that can wait at once, over each query's time."""
    runs = [s for s in summaries if predicted_rps(s) and s.repeats and not s.run.access_log]
    if not runs:
        return []
    lines = [
        "## The pool decides",
        "",
        "| route | server | pool per worker | users | at once | predicted/s | measured/s | ratio | server CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for summary in runs:
        scenario, predicted = SCENARIOS[summary.run.scenario], predicted_rps(summary) or 0
        cells = [
            f"`{scenario.path}`",
            f"`{summary.run.server}`",
            str(pool_size(scenario)),
            str(summary.run.users),
            str(queries_at_once(summary.run)),
            f"{predicted:,.0f}",
            f"{summary.rps:,.1f}" + (" ⁺" if summary.generator_bound else ""),
            f"{summary.rps / predicted:.2f}",
            f"{summary.median('server_cpu') or 0:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    legend = (
        "At once: the queries that can wait in PostgreSQL at once: per worker process, the fewest of its pool's "
        "connections and the requests it runs at once (an event loop, all of them unless a blocking call holds it; "
        "gthread, its threads; a sync worker, one), times its workers, at most the users. Predicted: that × 1000 / "
        "the query's ms. Measured: the median of the repeats; ⁺ generator-bound, a lower bound. Server CPU: cores "
        "used by the server's processes."
    )
    return [*lines[:2], *section("pool-predictions", [*lines[2:], "", legend])]


def bound_runs(summaries: list[Summary], scenario: str) -> str:
    """What a caption says of the runs a throughput chart draws: how many were generator-bound and what their bars
    mean, and which runs of the scenario it leaves out."""
    runs = throughput_rows(summaries, scenario)
    logged = [s for s in summaries if s.run.scenario == scenario and s.run.access_log and s.repeats]
    bound = sum(summary.generator_bound for summary in runs)
    said = (
        f"{bound} of its {len(runs)} runs drawn were generator-bound (hatched): the load generator was the limit in "
        "at least one repeat, so those bars are lower bounds for their servers and rank nothing among themselves."
        if bound
        else f"none of its {len(runs)} runs drawn was generator-bound."
    )
    if logged:
        said += (
            f" The {len(logged)} runs with the access log on are left out: the access-log chart compares each with "
            "the same server's run without it."
        )
    return said


def capitalized(sentence: str) -> str:
    """The sentence with its first letter a capital, the rest as it was (str.capitalize lowers the rest)."""
    return sentence[:1].upper() + sentence[1:]


def describe_chart(stem: str, summaries: list[Summary] | None = None) -> tuple[str, str]:
    """The alt text and the caption of a chart of the report, by its file name (and the runs it draws)."""
    kind, _, scenario = stem.partition("-")
    if kind == "throughput":
        tick = " A black tick is what the users would get if every wait overlapped." if lab_ms(scenario) else ""
        return (
            f"Requests per second of every run of the {scenario} scenario, grouped by number of users, coloured by "
            "what runs the view: vermillion a process (a sync worker), green a thread, purple a greenlet, blue an "
            "event loop, grey a bare baseline"
            + (
                "; hatched bars generator-bound"
                if any(s.generator_bound for s in throughput_rows(summaries or [], scenario))
                else ""
            ),
            f"{scenario}: median requests/s of the repeats; the whisker spans the lowest and highest repeat; the "
            f"colour is what runs the view, not the interface.{tick} "
            + capitalized(bound_runs(summaries or [], scenario)),
        )
    if kind == "latency":
        spent = lab_ms(scenario)
        floor = (
            f"the dotted line is the {spent} ms each request waits on purpose: anything to its right is queueing."
            if spent
            else "the route waits for nothing: every millisecond is the server's work, or a queue for it."
        )
        return (
            f"p50, p95 and p99 latency of every run of the {scenario} scenario, on a log scale, coloured by what runs "
            "the view",
            f"{scenario}: latency percentiles, median of the repeats; {floor}",
        )
    known = {
        "io-concurrency": (
            "Requests per second against concurrent users for /lab/io, both axes log, one line per server, "
            "with the ideal of users × 10 per second dotted",
            "/lab/io?ms=100: an event loop (blue) follows the ideal, one sync worker's process (vermillion) stays at "
            "10/s, gthread's threads (green) level off at threads × 10/s.",
        ),
        "access-log": (
            "GET /public/test requests per second with the access log off and on, a pair of bars per server",
            "What the access log costs: the lighter bar of each pair is the same server with its access log on; a "
            "hatched bar was generator-bound, a lower bound, and a pair with one cannot show the log's cost.",
        ),
        "mix-and-match": (
            "Two panels: hello throughput of every framework on every server, and /lab/io and /lab/async-io at "
            "100 users on a log axis with the ideal of 1,000 per second dotted; each bar coloured by what runs "
            "that view on that server: a process, a thread, a greenlet or an event loop",
            "Every framework on every interface: what a server and framework cost per request (left), and how "
            "many waits each overlaps (right). The colour is what runs the view, per bar: gevent's greenlets "
            "overlap Flask's blocking waits, and Django on an ASGI server runs its sync /lab/io in threads and "
            "its async /lab/async-io on the loop.",
        ),
    }
    return known.get(stem, (stem, stem))


# the charts that belong to a scenario's section beside its own throughput and latency charts
SCENARIO_CHARTS = {"iowait": ["io-concurrency"], "hello": ["access-log"]}


def chart_lines(path: Path, summaries: list[Summary]) -> list[str]:
    """A chart as the report shows it: the image with its alt text, then its caption in italics."""
    alt, caption = describe_chart(path.stem, summaries)
    return [f"![{alt}]({path.name})", "", f"*{caption}*", ""]


def section(name: str, lines: list[str]) -> list[str]:
    """`lines` between snippet markers, so that a page can include this part of report.md alone
    (`--8<-- "…/report.md:hello"`, or only its table: `…:hello-table`); the markers are HTML comments,
    invisible wherever the report is read."""
    while lines and not lines[-1]:
        lines = lines[:-1]
    # a blank line after the start marker: on GitHub an HTML comment runs on to the next blank line, and would
    # swallow the table after it
    return [f"<!-- --8<-- [start:{name}] -->", "", *lines, "", f"<!-- --8<-- [end:{name}] -->", ""]


def report_markdown(
    summaries: list[Summary], env: dict[str, Any], drawn: list[Path], skipped: list[str], results: list[Check]
) -> str:
    """report.md: environment, then per scenario its table and its charts, then the checks."""
    lines = ["# Benchmark report", "", *environment_lines(env), ""]
    lines += [
        "Every figure is the median over the repeats, each with a fresh server after a warm-up; the range is",
        "the lowest and highest repeat. **Generator-bound** marks a run whose load generator used its whole",
        "core while the server had CPU to spare: that figure is a lower bound for the server.",
        "",
    ]
    if skipped:
        lines += ["Skipped:", *[f"- {reason}" for reason in skipped], ""]
    lines += mix_table(summaries)
    lines += pool_table(summaries)
    charts = {path.stem: path for path in drawn}
    shown: set[str] = set()
    for scenario in dict.fromkeys(summary.run.scenario for summary in summaries if summary.repeats):
        table = scenario_table(summaries, scenario)
        stems = [f"throughput-{scenario}", f"latency-{scenario}", *SCENARIO_CHARTS.get(scenario, [])]
        mine = [stem for stem in stems if stem in charts]
        shown.update(mine)
        lines += [
            table[0],
            "",
            *section(
                scenario,
                section(f"{scenario}-table", table[2:-1])
                + [line for stem in mine for line in chart_lines(charts[stem], summaries)],
            ),
        ]
    if rest := [path for path in drawn if path.stem not in shown]:
        lines += ["## Charts", "", *[line for path in rest for line in chart_lines(path, summaries)]]
    checks_table = ["| check | result | figures |", "| --- | --- | --- |"]
    for check in results:
        verdict = "**FAIL**" if check.passed is False else check.verdict
        checks_table.append(f"| {check.name} | {verdict} | {check.detail} |")
    lines += ["## Checks", "", *section("checks", checks_table)]
    return "\n".join([*lines, ""])


def terminal_table(summaries: list[Summary], results: list[Check]) -> str:
    """One line per run, then the checks, for the end of a run in the terminal."""
    lines = [f"{'run':<44} {'requests/s':>11} {'range':>17} {'p99 ms':>8} {'fails':>6}"]
    for summary in summaries:
        if not summary.repeats:
            continue
        low, high = summary.spread
        flag = "  generator-bound" if summary.generator_bound else ""
        figures = f"{summary.rps:11,.1f} {low:8,.1f}–{high:<8,.1f} {milliseconds(summary.median('p99_ms')):>8}"
        lines.append(f"{summary.run.key:<44} {figures} {summary.failures:6}{flag}")
    lines += ["", "checks:", *[f"  [{check.verdict}] {check.name}: {check.detail}" for check in results]]
    return "\n".join(lines)
