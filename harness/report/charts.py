"""The charts of a harness run, one function each; each returns the PNG it drew, or None with nothing to draw."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from harness.pause import PauseRun
from harness.report import style
from harness.report.summary import Summary, find, lab_ms, measures_async_views, predicted_rps, throughput_rows
from harness.scenarios import MIX, SCENARIOS
from harness.streams import StreamsRun
from harness.timeline import Timeline
from launcher import config
from launcher.catalog import framework

# a marker per server where several share a colour
MARKERS = "osD^v<>phX*"


def users_label(summary: Summary) -> str:
    """A row of a chart: the server and its number of users, grouped by that number."""
    users = summary.run.users
    return f"{summary.run.server} · {users} user{'s' if users != 1 else ''}"


def all_at_once(scenario: str, users: int) -> float | None:
    """For a /lab scenario, the requests/s if every user's wait overlapped every other's: users * 1000 / ms."""
    spent = lab_ms(scenario)
    return users * 1000 / spent if spent else None


def scenario_path(scenario: str) -> str:
    """The route a scenario asks for, which decides what runs the view (hello's, for a results.json older than a
    rename)."""
    known = SCENARIOS.get(scenario)
    return known.path if known else "/public/test"


def throughput(summaries: list[Summary], scenario: str, folder: Path) -> Path | None:
    """Requests/s of every run of one scenario, grouped by users, median with the range of the repeats.

    The colour says what runs the view; generator-bound runs are hatched, their bars lower bounds; for a /lab
    scenario a tick marks what the users would get if every wait overlapped; a log axis when the figures span
    more than thirty times."""
    rows = throughput_rows(summaries, scenario)
    # the fewest users at the top, the fastest first within each group
    rows.sort(key=lambda s: (-s.run.users, s.rps))
    if not rows:
        return None
    figure, axes = style.new_figure(9, 0.45 * len(rows) + 1.8)
    low = [summary.rps - summary.spread[0] for summary in rows]
    high = [summary.spread[1] - summary.rps for summary in rows]
    positions = list(range(len(rows)))
    path = scenario_path(scenario)
    runners = [style.runner_of(summary.run.server, path) for summary in rows]
    bars = axes.barh(
        positions,
        [summary.rps for summary in rows],
        xerr=[low, high],
        ecolor="#444444",
        color=[style.RUNNER_COLOURS[runner] for runner in runners],
    )
    for bar, summary in zip(bars, rows, strict=True):
        if summary.generator_bound:
            style.hatch_as_bound(bar)
    handles = style.runner_legend(runners, hatched=any(summary.generator_bound for summary in rows))
    # a pool scenario's tick is what its pool predicts: a worker runs no more queries at once than it has connections
    pooled = scenario in SCENARIOS and SCENARIOS[scenario].postgres
    ideals = [
        (position, predicted_rps(summary) if pooled else all_at_once(scenario, summary.run.users))
        for position, summary in enumerate(rows)
    ]
    drawn = [(position, ideal) for position, ideal in ideals if ideal]
    if drawn:
        handles.append(
            axes.scatter(
                [ideal for _, ideal in drawn],
                [position for position, _ in drawn],
                marker="|",
                s=400,
                color=style.IDEAL,
                label="the pool's prediction: queries at once × 1000 / ms"
                if pooled
                else "every wait at once: users × 1000 / ms",
                zorder=3,
            )
        )
    axes.set_yticks(positions, [users_label(summary) for summary in rows])
    values = [summary.rps for summary in rows if summary.rps > 0]
    if values and max(values) > 30 * min(values):
        axes.set_xscale("log")
    scale = " (log scale)" if axes.get_xscale() == "log" else ""
    axes.set_xlabel(f"requests/s{scale}: median; the whisker spans the repeats")
    axes.set_title(f"{scenario}: throughput, coloured by what runs the view")
    below = style.legend_below(figure, handles)
    return style.save(figure, folder / f"throughput-{scenario}.png", below=below)


def latency(summaries: list[Summary], scenario: str, folder: Path) -> Path | None:
    """p50, p95 and p99 of every run of one scenario, as points on a log axis, with the wait's own floor."""
    rows = [s for s in summaries if s.run.scenario == scenario and not s.run.access_log and s.median("p50_ms")]
    rows.sort(key=lambda s: (-s.run.users, -(s.median("p50_ms") or 0)))
    if not rows:
        return None
    figure, axes = style.new_figure(9, 0.5 * len(rows) + 1.8)
    positions = list(range(len(rows)))
    runners = [style.runner_of(summary.run.server, scenario_path(scenario)) for summary in rows]
    handles: list[Any] = []
    for name, marker in [("p50_ms", "o"), ("p95_ms", "s"), ("p99_ms", "^")]:
        points = [(summary.median(name), position) for summary, position in zip(rows, positions, strict=True)]
        drawn = [(value, position) for value, position in points if value is not None]
        if drawn:
            axes.scatter(
                [value for value, _ in drawn],
                [position for _, position in drawn],
                marker=marker,
                color=[style.RUNNER_COLOURS[runners[position]] for _, position in drawn],
            )
            handles.append(Line2D([], [], marker=marker, linestyle="", color="#444444", label=name.removesuffix("_ms")))
    floor = lab_ms(scenario)
    if floor:
        handles.append(axes.axvline(floor, linestyle=":", color=style.IDEAL, label=f"the wait itself: {floor} ms"))
    axes.set_yticks(positions, [users_label(summary) for summary in rows])
    axes.set_xscale("log")
    axes.set_xlabel("latency, ms (median over repeats; log scale)")
    below = style.legend_below(figure, [*handles, *style.runner_legend(runners)])
    axes.set_title(f"{scenario}: latency percentiles, coloured by what runs the view")
    return style.save(figure, folder / f"latency-{scenario}.png", below=below)


def io_concurrency(summaries: list[Summary], folder: Path) -> Path | None:
    """/lab/io throughput against concurrent users, one line per server measured at several counts."""
    curve = [s for s in summaries if s.run.scenario == "iowait" and not s.run.access_log and s.repeats]
    servers = [server for server in dict.fromkeys(s.run.server for s in curve)]
    servers = [server for server in servers if sum(1 for s in curve if s.run.server == server) > 1]
    if not servers:
        return None
    figure, axes = style.new_figure(8, 5)
    users = sorted({summary.run.users for summary in curve})
    axes.plot(users, [count * 10 for count in users], ":", color=style.IDEAL, label="ideal: users × 10/s")
    for index, server in enumerate(servers):
        points = sorted((s.run.users, s.rps) for s in curve if s.run.server == server)
        runner = style.runner_of(server, scenario_path("iowait"))
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            linestyle="-",
            marker=MARKERS[index % len(MARKERS)],
            label=f"{server}: {style.RUNNER_LABELS[runner]}",
            color=style.RUNNER_COLOURS[runner],
        )
    axes.set_xlabel("concurrent users (log scale)")
    axes.set_ylabel("requests/s (log scale)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.legend(fontsize="small")
    axes.set_title("/lab/io?ms=100: throughput as concurrency grows")
    return style.save(figure, folder / "io-concurrency.png")


def access_log_cost(summaries: list[Summary], folder: Path) -> Path | None:
    """GET /public/test with the access log off and on, for every server measured both ways."""
    pairs = [
        (plain, logged)
        for logged in summaries
        if logged.run.access_log and logged.repeats
        if (plain := find(summaries, logged.run.server, logged.run.scenario, logged.run.users))
    ]
    if not pairs:
        return None
    figure, axes = style.new_figure(8, 0.9 * len(pairs) + 1.6)
    labels, values, colours, bound, runners = [], [], [], [], []
    for plain, logged in pairs:
        labels += [f"{plain.run.server} log off", f"{plain.run.server} log on"]
        values += [plain.rps, logged.rps]
        runners.append(style.runner_of(plain.run.server, scenario_path(plain.run.scenario)))
        colours += [style.RUNNER_COLOURS[runners[-1]]] * 2
        bound += [plain.generator_bound, logged.generator_bound]
    bars = axes.barh(labels, values, color=colours)
    for bar in bars[1::2]:
        bar.set_alpha(0.55)
    for bar, lower_bound in zip(bars, bound, strict=True):
        if lower_bound:
            style.hatch_as_bound(bar)
    axes.invert_yaxis()  # the first pair on top
    below = style.legend_below(figure, style.runner_legend(runners, hatched=any(bound)))
    axes.set_xlabel("requests/s, GET /public/test (median); the lighter bar: the access log on")
    axes.set_title("What the access log costs")
    return style.save(figure, folder / "access-log.png", below=below)


def mix_and_match(summaries: list[Summary], folder: Path) -> Path | None:
    """Every framework on every interface: hello, and the I/O wait as a plain and as an async view, side by side;
    each bar coloured by what runs that view on that server."""
    rows = [server for server in MIX if find(summaries, server, "hello") or find(summaries, server, "iowait")]
    # the chart of the mix suite, the one suite that measures async views: other suites share a few of its rows
    if not rows or not measures_async_views(summaries):
        return None
    figure, (hello_axes, io_axes) = style.new_figure_columns(2, 13, 0.42 * len(rows) + 2.2)
    positions = list(range(len(rows)))[::-1]  # the first row on top
    labels = [f"{framework(config(server))} · {server}" for server in rows]
    runners: list[str] = []
    hatched = False

    def draw(axes: Any, scenario: str, offset: float, height: float, alpha: float) -> None:
        nonlocal hatched
        found = [
            (position, find(summaries, server, scenario)) for position, server in zip(positions, rows, strict=True)
        ]
        drawn = [(position, summary) for position, summary in found if summary]
        kinds = [style.runner_of(summary.run.server, scenario_path(scenario)) for _, summary in drawn]
        runners.extend(kinds)
        bars = axes.barh(
            [position + offset for position, _ in drawn],
            [summary.rps for _, summary in drawn],
            height=height,
            color=[style.RUNNER_COLOURS[kind] for kind in kinds],
            alpha=alpha,
        )
        for bar, (_, summary) in zip(bars, drawn, strict=True):
            if summary.generator_bound:
                style.hatch_as_bound(bar)
                hatched = True

    draw(hello_axes, "hello", 0, 0.8, 1.0)
    hello_axes.set_yticks(positions, labels)
    hello_axes.set_xlabel("GET /public/test, requests/s (median)")
    hello_axes.set_title("hello: what the server and framework cost")
    height = 0.4
    draw(io_axes, "iowait", height / 2, height, 1.0)
    draw(io_axes, "asyncwait", -height / 2, height, 0.45)
    ideal = io_axes.axvline(1000, linestyle=":", color=style.IDEAL, label="ideal: 100 users × 10/s")
    io_axes.set_xscale("log")
    io_axes.set_yticks(positions, ["" for _ in rows])
    io_axes.set_xlabel("100 users waiting 100 ms each, requests/s (median; log scale)")
    io_axes.set_title("I/O wait: how many requests are in flight at once")
    pairs = [
        Patch(
            facecolor=style.BASELINE,
            label="upper bar: /lab/io, the app's own wait (FastAPI awaits; Flask and Django call time.sleep, "
            "which gevent patches to yield)",
        ),
        Patch(
            facecolor=style.BASELINE,
            alpha=0.45,
            label="lower, lighter bar: /lab/async-io, an async def view that awaits",
        ),
        ideal,
    ]
    # one legend under both panels: the colours mean the same on either side
    below = style.legend_below(
        figure,
        [*style.runner_legend(runners, hatched=hatched), *pairs],
        title="the colour of each bar: what runs that view on that server (Django on ASGI runs /lab/io in a "
        "thread, /lab/async-io on its loop)",
    )
    return style.save(figure, folder / "mix-and-match.png", below=below)


def draw_all(summaries: list[Summary], folder: Path) -> list[Path]:
    """Every chart the measured runs allow."""
    measured = [summary for summary in summaries if summary.repeats]
    scenarios = list(dict.fromkeys(summary.run.scenario for summary in measured))
    drawn = [throughput(measured, scenario, folder) for scenario in scenarios]
    drawn += [latency(measured, scenario, folder) for scenario in ["hello", "iowait"]]
    drawn += [io_concurrency(measured, folder), access_log_cost(measured, folder), mix_and_match(measured, folder)]
    return [path for path in drawn if path is not None]


# how each kind of merge event is drawn on the pause timeline: marker, colour, label, label offset in points
PAUSE_MARKS = {
    "started": ("o", style.ASGI, "lease granted", (0, 12)),
    "lost": ("x", style.WSGI, "renewal fails: lease lost", (4, -16)),
    "ended: fenced off": ("X", style.WSGI, "late end refused (fenced off)", (4, 10)),
    "ended: released": ("s", style.ASGI, "ended, released", (4, 10)),
}


def pause_timeline(run: PauseRun, lease_seconds: float, folder: Path) -> Path:
    """A lease, its renewals, a pause past it, the successor and the refused late end, one row per merge."""
    tokens = sorted({event.fencing_token for event in run.events})
    figure, axes = style.new_figure(10, 1.2 * len(tokens) + 1.8)
    labels = []
    for row, token in enumerate(reversed(tokens)):
        events = [event for event in run.events if event.fencing_token == token]
        labels.append(f"merge {token}: worker {events[0].pid}, {run.outcomes.get(token, 'running')}")
        # the lease: each grant and each renewal holds it for one lease from then, until the merge lets go
        held_until = max(event.at for event in events if event.kind in {"started", "renewed"}) + lease_seconds
        released = [event.at for event in events if event.kind == "ended: released"]
        start = events[0].at
        end = min([held_until, *released])
        axes.barh(row, end - start, left=start, height=0.35, color=style.ASGI, alpha=0.22, linewidth=0)
        if not released:
            axes.axvline(
                held_until,
                ymin=(row + 0.2) / len(tokens),
                ymax=(row + 0.8) / len(tokens),
                color=style.WSGI,
                linestyle=":",
            )
            axes.annotate(
                "lease runs out", (held_until, row + 0.22), xytext=(3, 0), textcoords="offset points", fontsize=8
            )
        renewals = [event.at for event in events if event.kind == "renewed"]
        axes.scatter(renewals, [row] * len(renewals), marker="|", s=120, color=style.ASGI)
        for event in events:
            if event.kind in PAUSE_MARKS:
                marker, colour, text, offset = PAUSE_MARKS[event.kind]
                axes.scatter([event.at], [row], marker=marker, s=70, color=colour, zorder=3)
                axes.annotate(text, (event.at, row), xytext=offset, textcoords="offset points", fontsize=8)
        if token == tokens[0]:
            start, end = run.pause
            band = ((row + 0.15) / len(tokens), (row + 0.85) / len(tokens))
            axes.axvspan(start, end, ymin=band[0], ymax=band[1], color=style.BASELINE, alpha=0.35, linewidth=0)
            axes.annotate("its event loop blocked", ((start + end) / 2, row - 0.34), ha="center", fontsize=8)
    axes.set_yticks(range(len(tokens)), labels)
    axes.set_ylim(-0.8, len(tokens) - 0.3)
    axes.set_xlabel(f"seconds; shaded: the lease held, {lease_seconds:g} s from the grant and from each renewal (|)")
    axes.set_title("A pause longer than the lease: another worker takes over; the fence refuses the late end")
    return style.save(figure, folder / "pause-timeline.png")


# the route every held stream reads, which decides what runs it
STREAMS_PATH = "/merge/events"
# linestyles to tell apart the servers that share a colour (and a marker)
DASHES = ["-", "--", ":", "-."]


def dodge(value: float, index: int, count: int) -> float:
    """`value` moved a little right or left on a log axis, so that servers with the same figures stay visible."""
    return value * 10 ** (0.02 * (index - (count - 1) / 2))


def streams_chart(runs: list[StreamsRun], folder: Path) -> Path | None:
    """Open streams asked (log) against streams held and against hello's p99, one measure per panel, one series per
    server: its colour what runs the stream, its marker and line its own. A server's ceiling is annotated; a run in
    which no hello was answered is an x on the panel's top edge, not a latency."""
    servers = list(dict.fromkeys(run.server for run in runs))
    if not servers:
        return None
    figure, (held_axes, hello_axes) = style.new_figure_columns(2, 13, 5.6)
    answered = [run.hello_p99_ms for run in runs if run.hello_p99_ms is not None]
    top = max([*answered, 100.0]) * 3  # the "no answer" row, above every latency drawn
    handles: list[Any] = []
    runners: list[str] = []
    ceilings: list[tuple[StreamsRun, float, str]] = []  # where each server held fewer than asked: run, x, colour
    for index, server in enumerate(servers):
        rows = sorted((run for run in runs if run.server == server), key=lambda run: run.requested)
        runner = style.runner_of(server, STREAMS_PATH)
        runners.append(runner)
        same = runners.count(runner) - 1  # how many servers of this colour came before: its marker and dashes
        look = {
            "color": style.RUNNER_COLOURS[runner],
            "marker": MARKERS[same % len(MARKERS)],
            "linestyle": DASHES[same % len(DASHES)],
        }
        asked = [dodge(run.requested, index, len(servers)) for run in rows]
        handles.append(held_axes.plot(asked, [max(run.held, 0.8) for run in rows], label=server, **look)[0])
        ceiling = next((run for run in rows if run.held < run.requested), None)
        if ceiling:
            ceilings.append((ceiling, dodge(ceiling.requested, index, len(servers)), look["color"]))
        # a latency where some hello was answered; the runs with none answered are not latencies, drawn apart
        timed = [(x, run.hello_p99_ms) for x, run in zip(asked, rows, strict=True) if run.hello_p99_ms is not None]
        hello_axes.plot([x for x, _ in timed], [ms for _, ms in timed], **look)
        refused = [x for x, run in zip(asked, rows, strict=True) if run.hello_p99_ms is None]
        hello_axes.scatter(refused, [top] * len(refused), marker="x", s=60, color=look["color"], zorder=3)
    held_axes.plot([1, 10_000], [1, 10_000], ":", color=style.IDEAL, linewidth=0.8, label="every stream held")
    # each ceiling ringed on top of the lines, and labelled in the panel's empty lower right, one label a line
    ceilings.sort(key=lambda found: -found[0].held)
    for line, (ceiling, x, colour) in enumerate(ceilings):
        height = max(ceiling.held, 0.8)
        held_axes.scatter([x], [height], s=170, facecolor="none", edgecolor=colour, linewidth=1.6, zorder=4)
        held_axes.annotate(
            f"{ceiling.server}: holds {ceiling.held:,} of {ceiling.requested:,}",
            (x, height),
            xytext=(0.56, 0.46 - 0.065 * line),
            textcoords="axes fraction",
            fontsize=7.5,
            color=colour,
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.6, "shrinkA": 0, "shrinkB": 6},
        )
    for axes in (held_axes, hello_axes):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("open streams asked for (log scale)")
        axes.grid(color="#dddddd", linewidth=0.6)
    held_axes.set_ylabel("streams held (log scale)")
    held_axes.set_title("Streams held; ringed and labelled: where a server stops taking more")
    hello_axes.axhline(100, color="#555555", linewidth=0.8, linestyle=":")
    hello_axes.axhline(top / 1.6, color="#555555", linewidth=0.6)
    hello_axes.annotate(
        "above the line, ×: no hello answered (2 s timeout)",
        (0.01, top / 2.2),
        xycoords=("axes fraction", "data"),
        fontsize=8,
    )
    hello_axes.set_ylim(top=top * 1.6)
    hello_axes.set_ylabel("GET /public/test p99, ms (log scale)")
    hello_axes.set_title("Everyone else's latency while the streams are open")
    kinds = style.runner_legend(runners)
    refusal = Line2D([], [], marker="x", linestyle="", color="#444444", label="no hello answered: not a latency")
    below = style.legend_below(figure, [*handles, *kinds, refusal], ncols=4)
    return style.save(figure, folder / "streams.png", below=below)


def clients_over_time(timeline: Timeline) -> tuple[list[float], list[int], list[int]]:
    """At every moment something changed: how many requests were queued (sent, not yet started) and how many ran."""
    requests = timeline.requests
    moments = sorted(
        {0.0} | {moment for request in requests for moment in (request.sent, request.started, request.ended)}
    )
    queued = [sum(request.sent <= moment < request.started for request in requests) for moment in moments]
    running = [sum(request.started <= moment < request.ended for request in requests) for moment in moments]
    return moments, queued, running


def lane_labels(timeline: Timeline, lanes: list[tuple[int, int]]) -> list[str]:
    """A label per lane, its process and thread; threads of one name (a pool's) numbered in the order they ran."""
    names = {(request.pid, request.thread_id): request.thread for request in timeline.requests}
    counted = Counter((pid, names[pid, ident]) for pid, ident in lanes)
    seen: Counter[tuple[int, str]] = Counter()
    labels = []
    for pid, ident in lanes:
        name = names[pid, ident]
        seen[pid, name] += 1
        number = f" {seen[pid, name]}" if counted[pid, name] > 1 else ""
        labels.append(f"pid {pid} · {name}{number}")
    return labels


def timeline_chart(timeline: Timeline, folder: Path, seconds: float | None = None, note: str = "") -> Path:
    """Above, one lane per process and thread with a bar per request where it ran; below, the clients: how many
    requests were queued before a lane took them and how many were running, moment by moment.

    `seconds`: the time axis's end, shared by the timelines meant to be compared (else this one's last answer);
    `note`: a sentence under the chart, for what a reader will ask of it (a late start, say)."""
    # the lanes grouped by process, each in the order it first took a request: a pool's threads as they started
    lanes = list(dict.fromkeys((request.pid, request.thread_id) for request in timeline.requests))
    processes = list(dict.fromkeys(pid for pid, _ in lanes))
    lanes.sort(key=lambda lane: processes.index(lane[0]))
    # requests that overlap on one lane (an event loop's) are stacked inside it, one row each
    rows: dict[int, tuple[int, int]] = {}  # client -> (lane, row within the lane)
    depth = dict.fromkeys(lanes, 1)
    for lane_index, lane in enumerate(lanes):
        open_until: list[float] = []
        for request in (r for r in timeline.requests if (r.pid, r.thread_id) == lane):
            row = next((i for i, end in enumerate(open_until) if end <= request.started), len(open_until))
            if row == len(open_until):
                open_until.append(request.ended)
            else:
                open_until[row] = request.ended
            rows[request.client] = (lane_index, row)
        depth[lane] = max(1, len(open_until))
    gap = 0.6
    offsets, position = [], 0.0
    for lane in lanes:
        offsets.append(position)
        position += depth[lane] + gap
    runner = style.runner_of(timeline.server, timeline.path)
    colour = style.RUNNER_COLOURS[runner]
    lanes_height = min(7.5, 1.0 + 0.22 * position)
    figure, (axes, clients) = style.new_figure_rows(2, 10, lanes_height + 2.0, height_ratios=[lanes_height, 1.5])
    style.x_grid(axes)
    style.x_grid(clients)
    doing = "computing" if timeline.computing else "waiting"
    for lane_index, lane in enumerate(lanes):
        top, bottom = offsets[lane_index] - 0.5 - gap / 2, offsets[lane_index] + depth[lane] - 0.5 + gap / 2
        if lane_index % 2:  # every other lane shaded, and a line between lanes: where one thread ends
            axes.axhspan(top, bottom, color="#f2f2f2", linewidth=0, zorder=0)
        if lane_index:  # darker where another process begins
            other = lane[0] != lanes[lane_index - 1][0]
            axes.axhline(top, color="#666666" if other else "#bbbbbb", linewidth=1.0 if other else 0.6, zorder=0.5)
    for request in timeline.requests:
        lane_index, row = rows[request.client]
        axes.barh(
            offsets[lane_index] + row,
            request.ended - request.started,
            left=request.started,
            height=0.8,
            color=colour,
            hatch="" if timeline.computing else "///",
            edgecolor="white",
            linewidth=0.3,
        )
    labels = lane_labels(timeline, lanes)
    if len(lanes) > 24:  # a pool's 40 threads: every fifth lane named
        labels = [label if index % 5 == 0 else "" for index, label in enumerate(labels)]
    axes.set_yticks([offsets[i] + (depth[lane] - 1) / 2 for i, lane in enumerate(lanes)], labels, fontsize=7)
    axes.set_ylim(position - 0.5 - gap / 2, -0.5 - gap / 2)  # the first lane on top
    last = max(request.answered for request in timeline.requests)
    end = max(seconds or 0.0, last)
    axes.set_xlim(-0.02 * end, end * 1.02)
    axes.set_title(
        f"{timeline.title}\n{timeline.server}, {len(timeline.requests)} clients at once, GET {timeline.path}; "
        f"what runs the view: {'an' if runner[0] in 'aeiou' else 'a'} {runner}\nabove: where each request ran, "
        f"{timeline.lanes} (a bar: {doing} in the route); below: the clients",
        fontsize=10,
    )
    moments, queued, running = clients_over_time(timeline)
    clients.fill_between(moments, queued, step="post", color=style.BASELINE, alpha=0.5, label="queued, not started")
    clients.step(moments, running, where="post", color=colour, linewidth=1.5, label=f"{doing} in the route")
    clients.set_ylim(0, len(timeline.requests) * 1.15)
    clients.set_ylabel("requests", fontsize=8)
    clients.legend(fontsize=7, loc="upper right")
    shared = " (one time axis for the timelines drawn together)" if seconds else ""
    clients.set_xlabel(f"seconds after the clients sent their requests{shared}")
    below = 0.0
    if note:
        below = 0.16 * len(textwrap.wrap(note, 150)) + 0.1
        figure.set_figheight(figure.get_figheight() + below)
        figure.text(0.02, 0.01, textwrap.fill(note, 150), fontsize=8, va="bottom", ha="left", color="#333333")
    return style.save(figure, folder / f"timeline-{timeline.lesson}.png", below=below)
