"""The charts of a harness run, one function each; each returns the PNG it drew, or None with nothing to draw."""

from __future__ import annotations

from pathlib import Path

from harness.pause import PauseRun
from harness.report import style
from harness.report.summary import Summary, find, measures_async_views
from harness.scenarios import MIX, SCENARIOS
from harness.streams import StreamsRun
from harness.timeline import Timeline
from launcher import config
from launcher.catalog import framework


def users_label(summary: Summary) -> str:
    """A row of a chart: the server and its number of users, grouped by that number."""
    users = summary.run.users
    return f"{summary.run.server} · {users} user{'s' if users != 1 else ''}"


def lab_ms(scenario: str) -> int | None:
    """What each request of a /lab scenario spends, or None (a results.json older than a rename: unknown)."""
    known = SCENARIOS.get(scenario)
    return known.lab_ms if known else None


def all_at_once(scenario: str, users: int) -> float | None:
    """For a /lab scenario, the requests/s if every user's wait overlapped every other's: users * 1000 / ms."""
    spent = lab_ms(scenario)
    return users * 1000 / spent if spent else None


def throughput(summaries: list[Summary], scenario: str, folder: Path) -> Path | None:
    """Requests/s of every run of one scenario, grouped by users, median with the range of the repeats.

    Generator-bound runs are hatched; for a /lab scenario a tick marks what the users would get if every wait
    overlapped; a log axis when the figures span more than thirty times."""
    rows = [s for s in summaries if s.run.scenario == scenario and not s.run.access_log]
    # the fewest users at the top, the fastest first within each group
    rows.sort(key=lambda s: (-s.run.users, s.rps))
    if not rows:
        return None
    figure, axes = style.new_figure(9, 0.45 * len(rows) + 1.8)
    low = [summary.rps - summary.spread[0] for summary in rows]
    high = [summary.spread[1] - summary.rps for summary in rows]
    positions = list(range(len(rows)))
    bars = axes.barh(positions, [summary.rps for summary in rows], xerr=[low, high], ecolor="#444444")
    for bar, summary in zip(bars, rows, strict=True):
        bar.set_color(style.colour_of(summary.run.server))
        if summary.generator_bound:
            bar.set_hatch(style.GENERATOR_BOUND_HATCH)
            bar.set_edgecolor("white")
    ideals = [(position, all_at_once(scenario, summary.run.users)) for position, summary in enumerate(rows)]
    drawn = [(position, ideal) for position, ideal in ideals if ideal]
    if drawn:
        axes.scatter(
            [ideal for _, ideal in drawn],
            [position for position, _ in drawn],
            marker="|",
            s=400,
            color=style.IDEAL,
            label="every wait at once: users × 1000 / ms",
            zorder=3,
        )
        axes.legend(loc="lower right", fontsize="small")
    axes.set_yticks(positions, [users_label(summary) for summary in rows])
    values = [summary.rps for summary in rows if summary.rps > 0]
    if values and max(values) > 30 * min(values):
        axes.set_xscale("log")
    scale = " (log scale)" if axes.get_xscale() == "log" else ""
    axes.set_xlabel(f"requests/s{scale}: median; the whisker spans the repeats; hatched: generator-bound")
    axes.set_title(f"{scenario}: throughput (blue ASGI, vermillion WSGI, grey baselines)")
    return style.save(figure, folder / f"throughput-{scenario}.png")


def latency(summaries: list[Summary], scenario: str, folder: Path) -> Path | None:
    """p50, p95 and p99 of every run of one scenario, as points on a log axis, with the wait's own floor."""
    rows = [s for s in summaries if s.run.scenario == scenario and not s.run.access_log and s.median("p50_ms")]
    rows.sort(key=lambda s: (-s.run.users, -(s.median("p50_ms") or 0)))
    if not rows:
        return None
    figure, axes = style.new_figure(9, 0.5 * len(rows) + 1.8)
    positions = list(range(len(rows)))
    for name, marker in [("p50_ms", "o"), ("p95_ms", "s"), ("p99_ms", "^")]:
        points = [(summary.median(name), position) for summary, position in zip(rows, positions, strict=True)]
        drawn = [(value, position) for value, position in points if value is not None]
        if drawn:
            axes.scatter(
                [value for value, _ in drawn],
                [position for _, position in drawn],
                marker=marker,
                label=name.removesuffix("_ms"),
                color=[style.colour_of(rows[position].run.server) for _, position in drawn],
            )
    floor = lab_ms(scenario)
    if floor:
        axes.axvline(floor, linestyle=":", color=style.IDEAL, label=f"the wait itself: {floor} ms")
    axes.set_yticks(positions, [users_label(summary) for summary in rows])
    axes.set_xscale("log")
    axes.set_xlabel("latency, ms (median over repeats; log scale)")
    axes.legend(fontsize="small")
    axes.set_title(f"{scenario}: latency percentiles")
    return style.save(figure, folder / f"latency-{scenario}.png")


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
        colour = style.colour_of(server) if index < 2 else style.EXTRA[index % len(style.EXTRA)]
        axes.plot([p[0] for p in points], [p[1] for p in points], "o-", label=server, color=colour)
    axes.set_xlabel("concurrent users (log scale)")
    axes.set_ylabel("requests/s (log scale)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.legend()
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
    labels, values, colours = [], [], []
    for plain, logged in pairs:
        labels += [f"{plain.run.server} log off", f"{plain.run.server} log on"]
        values += [plain.rps, logged.rps]
        colours += [style.colour_of(plain.run.server)] * 2
    bars = axes.barh(labels, values, color=colours)
    for bar in bars[1::2]:
        bar.set_alpha(0.55)
    axes.set_xlabel("requests/s, GET /public/test (median)")
    axes.set_title("What the access log costs")
    return style.save(figure, folder / "access-log.png")


def mix_and_match(summaries: list[Summary], folder: Path) -> Path | None:
    """Every framework on every interface: hello, and the I/O wait as a plain and as an async view, side by side."""
    rows = [server for server in MIX if find(summaries, server, "hello") or find(summaries, server, "iowait")]
    # the chart of the mix suite, the one suite that measures async views: other suites share a few of its rows
    if not rows or not measures_async_views(summaries):
        return None
    figure, (hello_axes, io_axes) = style.new_figure_columns(2, 13, 0.42 * len(rows) + 2.2)
    positions = list(range(len(rows)))[::-1]  # the first row on top
    labels = [f"{framework(config(server))} · {server}" for server in rows]
    colours = [style.colour_of(server) for server in rows]
    hello = [find(summaries, server, "hello") for server in rows]
    hello_axes.barh(positions, [s.rps if s else 0 for s in hello], color=colours)
    hello_axes.set_yticks(positions, labels)
    hello_axes.set_xlabel("GET /public/test, requests/s (median)")
    hello_axes.set_title("hello: what the server and framework cost")
    height = 0.4
    for offset, scenario, alpha, name in [
        (height / 2, "iowait", 1.0, "FastAPI awaits, the others block"),
        (-height / 2, "asyncwait", 0.45, "an async def view that awaits"),
    ]:
        found = [find(summaries, server, scenario) for server in rows]
        drawn = [(position, s.rps) for position, s in zip(positions, found, strict=True) if s]
        if drawn:
            io_axes.barh(
                [position + offset for position, _ in drawn],
                [rps for _, rps in drawn],
                height=height,
                color=[colours[positions.index(position)] for position, _ in drawn],
                alpha=alpha,
                label=f"/lab/{'io' if scenario == 'iowait' else 'async-io'}: {name}",
            )
    io_axes.axvline(1000, linestyle=":", color=style.IDEAL, label="ideal: 100 users × 10/s")
    io_axes.set_xscale("log")
    io_axes.set_yticks(positions, ["" for _ in rows])
    io_axes.set_xlabel("100 users waiting 100 ms each, requests/s (median; log scale)")
    io_axes.set_title("I/O wait: how many requests are in flight at once")
    # in the hello panel's empty lower right, where no bar reaches: the I/O panel has none to spare
    handles, names = io_axes.get_legend_handles_labels()
    hello_axes.legend(handles, names, loc="lower right", fontsize="small", title="right panel")
    return style.save(figure, folder / "mix-and-match.png")


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


def streams_chart(runs: list[StreamsRun], folder: Path) -> Path | None:
    """Open streams asked (log) against streams held and against hello's p99, one line per server."""
    servers = list(dict.fromkeys(run.server for run in runs))
    if not servers:
        return None
    figure, (held_axes, hello_axes) = style.new_figure_columns(2, 12, 4.8)
    markers = "osD^v<>phX"
    for index, server in enumerate(servers):
        rows = [run for run in runs if run.server == server]
        colour, marker = style.colour_of(server), markers[index % len(markers)]
        dashes = "-" if index % 2 == 0 else "--"
        asked = [run.requested for run in rows]
        held_axes.plot(asked, [max(run.held, 0.8) for run in rows], dashes, marker=marker, color=colour, label=server)
        # a run with no hello answered has no p99: drawn at the 2 s timeout, hollow
        p99 = [run.hello_p99_ms if run.hello_p99_ms is not None else 2000.0 for run in rows]
        hello_axes.plot(asked, p99, dashes, marker=marker, color=colour, label=server)
    held_axes.plot([1, 10_000], [1, 10_000], ":", color=style.IDEAL, linewidth=0.8, label="every stream held")
    for axes in (held_axes, hello_axes):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("open streams asked for (log scale)")
        axes.grid(color="#dddddd", linewidth=0.6)
    held_axes.set_ylabel("streams held (log scale)")
    held_axes.set_title("How many streams each server holds")
    hello_axes.axhline(100, color="#555555", linewidth=0.8, linestyle=":")
    hello_axes.set_ylabel("GET /public/test p99, ms (log; 2000 = none answered)")
    hello_axes.set_title("Everyone else's latency while they are open")
    hello_axes.legend(fontsize=7, loc="upper left")
    return style.save(figure, folder / "streams.png")


def clients_over_time(timeline: Timeline) -> tuple[list[float], list[int], list[int]]:
    """At every moment something changed: how many requests were queued (sent, not yet started) and how many ran."""
    requests = timeline.requests
    moments = sorted(
        {0.0} | {moment for request in requests for moment in (request.sent, request.started, request.ended)}
    )
    queued = [sum(request.sent <= moment < request.started for request in requests) for moment in moments]
    running = [sum(request.started <= moment < request.ended for request in requests) for moment in moments]
    return moments, queued, running


def timeline_chart(timeline: Timeline, folder: Path) -> Path:
    """Above, one lane per process and thread with a bar per request where it ran; below, the clients: how many
    requests were queued before a lane took them and how many were running, moment by moment."""
    lanes = sorted({(request.pid, request.thread_id) for request in timeline.requests})
    names = {(request.pid, request.thread_id): request.thread for request in timeline.requests}
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
    offsets, position = [], 0.0
    for lane in lanes:
        offsets.append(position)
        position += depth[lane] + 0.6
    colour = style.colour_of(timeline.server)
    lanes_height = min(7.5, 1.0 + 0.22 * position)
    figure, (axes, clients) = style.new_figure_rows(2, 10, lanes_height + 2.0, height_ratios=[lanes_height, 1.5])
    style.x_grid(axes)
    style.x_grid(clients)
    doing = "computing" if timeline.computing else "waiting"
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
    labels = [f"pid {pid} · {names[pid, ident]}" for pid, ident in lanes]
    if len(lanes) > 24:  # a pool's 40 threads: every fifth lane named
        labels = [label if index % 5 == 0 else "" for index, label in enumerate(labels)]
    axes.set_yticks([offsets[i] + (depth[lane] - 1) / 2 for i, lane in enumerate(lanes)], labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_title(
        f"{timeline.title}\n{timeline.server}, {len(timeline.requests)} clients at once, GET {timeline.path}\n"
        f"above: where each request ran (a bar: {doing} in the route); below: the clients"
    )
    moments, queued, running = clients_over_time(timeline)
    clients.fill_between(moments, queued, step="post", color=style.BASELINE, alpha=0.5, label="queued, not started")
    clients.step(moments, running, where="post", color=colour, linewidth=1.5, label=f"{doing} in the route")
    clients.set_ylim(0, len(timeline.requests) * 1.15)
    clients.set_ylabel("requests", fontsize=8)
    clients.legend(fontsize=7, loc="upper right")
    clients.set_xlabel("seconds after the clients sent their requests")
    return style.save(figure, folder / f"timeline-{timeline.lesson}.png")
