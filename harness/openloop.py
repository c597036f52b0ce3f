"""`python -m harness.openloop URL --rate R --duration S`: requests at fixed times, whatever the answers.

A closed loop (Locust's users, wrk's connections) sends its next request only once the last one is answered:
a server that slows down slows its own load, and the requests it would have kept waiting are never sent, so
their wait is never counted (Gil Tene's *coordinated omission*). Here request i is due at start + i / rate,
and its latency runs from that due time to the end of its answer, as in wrk2: a stall is charged to every
request it delays. The percentiles come from an HDR histogram (`hdrhistogram`, microseconds, 3 digits).

One asyncio process on uvloop, HTTP/1.1 parsed by httptools, at most --connections connections, kept alive
where the server allows. A request due while every connection is busy is not sent and is counted *unsent*,
apart from the answered and the failed (a timeout from its due time, a refused or dropped connection, a status
other than 2xx, whose latencies are left out of the histogram). How late the generator itself got to each
request (its *send lag*) is recorded apart: latency = send lag + the server's time, so a lag that is not small
beside the latencies says the figures are the generator's. It prints one JSON line, which
harness/openload.py reads into an OpenStep.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools
import uvloop
from hdrh.histogram import HdrHistogram

from launcher.process import raise_open_files_limit

# microseconds, from 1 us to 10 minutes, to 3 significant digits
HISTOGRAM_RANGE = (1, 600_000_000, 3)
# an idle connection is closed rather than reused after this long: the servers drop theirs after 5 s, and a
# request written on a connection the server is closing at that moment would be reset (launcher.CLIENT_LIMITS)
IDLE_SECONDS = 4.0
# the first request is due this long after the loop starts, so that it is not late before it begins
LEAD_SECONDS = 0.1
# the clock of due times and answers: uvloop's own loop.time() counts whole milliseconds, once per iteration
clock = time.perf_counter


def histogram() -> HdrHistogram:
    """An empty HDR histogram of microseconds."""
    return HdrHistogram(*HISTOGRAM_RANGE)


def milliseconds(recorded: HdrHistogram) -> dict[str, float | None]:
    """The percentiles of a histogram of microseconds, in milliseconds (None for an empty one)."""
    empty = recorded.get_total_count() == 0
    points = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}
    figures = {name: None if empty else recorded.get_value_at_percentile(at) / 1000 for name, at in points.items()}
    return figures | {"max": None if empty else recorded.get_max_value() / 1000}


@dataclass(frozen=True)
class Plan:
    """What to send: GET `target` on host:port, `rate` a second for `duration` seconds."""

    host: str
    port: int
    target: str  # the path and query
    rate: float
    duration: float
    connections: int
    timeout: float  # seconds from a request's due time

    @property
    def total(self) -> int:
        """How many requests the schedule holds."""
        return round(self.rate * self.duration)


class Tally:
    """What the requests came to: histograms from due time and from sending, counts, one histogram per second."""

    def __init__(self, plan: Plan) -> None:
        self.latency = histogram()  # due time to answer, 2xx only
        self.service = histogram()  # sent to answer: what a closed loop reports
        self.send_lag = histogram()  # due time to sent: the generator's own lateness
        self.by_second = [histogram() for _ in range(max(1, math.ceil(plan.duration)))]
        self.failed_by_second = [0] * len(self.by_second)
        self.failures: Counter[str] = Counter()
        self.sent = self.unsent = self.ok = 0
        self.last_ok = 0.0

    def answered(self, start: float, due: float, sent: float, now: float, status: int) -> None:
        """One answer: a 2xx into the histograms, any other status into the failures."""
        second = min(int(due - start), len(self.by_second) - 1)
        if not 200 <= status < 300:
            self.failed(start, due, str(status))
            return
        self.ok += 1
        self.last_ok = now
        self.latency.record_value(max(1, round((now - due) * 1e6)))
        self.service.record_value(max(1, round((now - sent) * 1e6)))
        self.by_second[second].record_value(max(1, round((now - due) * 1e6)))

    def failed(self, start: float, due: float, kind: str) -> None:
        """A request with no usable answer: timed out, its connection refused or lost, or a status not 2xx."""
        self.failures[kind] += 1
        self.failed_by_second[min(int(due - start), len(self.by_second) - 1)] += 1


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, one request at a time; httptools calls on_message_complete at each answer's end."""

    def __init__(self, load: OpenLoop) -> None:
        self.load = load
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.due: float | None = None  # the request in flight: its due time, when it was sent, its timeout
        self.sent = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport is a transport in all but its class
        self.transport = cast(asyncio.Transport, transport)

    def send(self, due: float, sent: float) -> None:
        """Write the request due at `due`, which the generator got to at `sent`."""
        assert self.transport is not None
        self.due, self.sent = due, sent
        self.timer = self.load.loop.call_later(due + self.load.plan.timeout - clock(), self.fail, "timeout")
        self.transport.write(self.load.request)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.fail("malformed answer")

    def on_message_complete(self) -> None:
        """httptools' callback at the end of an answer."""
        if self.due is None or self.timer is None:
            return
        self.timer.cancel()
        due, self.due = self.due, None
        self.load.answered(due, self.sent, self.parser.get_status_code())
        if self.parser.should_keep_alive():
            self.load.release(self)
        else:  # Gunicorn's sync workers close after every answer
            self.close()

    def fail(self, kind: str) -> None:
        """Give up on the request in flight (`kind` says why) and on the connection."""
        if self.due is not None:
            if self.timer is not None:
                self.timer.cancel()
            due, self.due = self.due, None
            self.load.failed(due, kind)
        self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail("connection lost")
        self.load.lost(self)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class OpenLoop:
    """The schedule, the connections and the tally of one run."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.loop = asyncio.get_running_loop()
        self.request = f"GET {plan.target} HTTP/1.1\r\nHost: {plan.host}:{plan.port}\r\n\r\n".encode()
        self.tally = Tally(plan)
        self.idle: list[Connection] = []  # newest last: the most recently used is reused first
        self.connections: set[Connection] = set()
        self.opening = 0
        self.opened = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.start = 0.0
        self.drained = asyncio.Event()
        self.scheduling = True

    async def run(self) -> dict[str, object]:
        """Send every request of the plan on time, wait for the answers (each within its timeout); the figures."""
        began_cpu, began = time.process_time(), clock()
        self.start = began + LEAD_SECONDS
        for index in range(self.plan.total):
            due = self.start + index / self.plan.rate
            # a sleep of zero still lets the answers in, when the generator is behind its schedule
            await asyncio.sleep(max(0.0, due - clock()))
            self.dispatch(due)
        self.scheduling = False
        if self.in_flight:
            # every request in flight has its timeout running; the second more is for the last timers to fire
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drained.wait(), self.plan.timeout + 1)
        for connection in list(self.connections):
            connection.close()
        seconds = clock() - began
        return self.figures(time.process_time() - began_cpu, seconds)

    def dispatch(self, due: float) -> None:
        """Send the request due at `due` on an idle connection, or a new one; unsent if none can be had."""
        now = clock()
        self.tally.send_lag.record_value(max(1, round((now - due) * 1e6)))
        connection = self.take_idle(now)
        if connection is None and len(self.connections) + self.opening >= self.plan.connections:
            self.tally.unsent += 1
            return
        self.tally.sent += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if connection is not None:
            connection.send(due, now)
        else:
            self.opening += 1
            self.loop.create_task(self.connect(due, now))

    def take_idle(self, now: float) -> Connection | None:
        """The most recently used idle connection, closing those idle too long."""
        while self.idle:
            connection = self.idle.pop()
            transport = connection.transport
            if now - connection.idle_since < IDLE_SECONDS and transport is not None and not transport.is_closing():
                return connection
            connection.close()
        return None

    async def connect(self, due: float, sent: float) -> None:
        """Open a connection and send the request due at `due` on it, within its timeout."""
        try:
            _, connection = await asyncio.wait_for(
                self.loop.create_connection(lambda: Connection(self), self.plan.host, self.plan.port),
                timeout=max(0.0, due + self.plan.timeout - clock()),
            )
        except TimeoutError:
            self.failed(due, "timeout")
            return
        except OSError:
            self.failed(due, "connection refused")
            return
        finally:
            self.opening -= 1
        self.opened += 1
        self.connections.add(connection)
        connection.send(due, sent)

    def answered(self, due: float, sent: float, status: int) -> None:
        self.tally.answered(self.start, due, sent, clock(), status)
        self.settle()

    def failed(self, due: float, kind: str) -> None:
        self.tally.failed(self.start, due, kind)
        self.settle()

    def settle(self) -> None:
        """One request fewer in flight; the run is over once the schedule is and none is left."""
        self.in_flight -= 1
        if not self.in_flight and not self.scheduling:
            self.drained.set()

    def release(self, connection: Connection) -> None:
        connection.idle_since = clock()
        self.idle.append(connection)

    def lost(self, connection: Connection) -> None:
        self.connections.discard(connection)

    def figures(self, cpu_seconds: float, seconds: float) -> dict[str, object]:
        """The run as JSON-ready figures."""
        tally = self.tally
        answering = tally.last_ok - self.start
        return {
            "offered_rps": self.plan.rate,
            "duration_s": self.plan.duration,
            "scheduled": self.plan.total,
            "sent": tally.sent,
            "unsent": tally.unsent,
            "ok": tally.ok,
            "failures": dict(tally.failures),
            # answers per second, from the first due time to the last answer
            "achieved_rps": tally.ok / answering if answering > 0 else 0.0,
            "latency_ms": milliseconds(tally.latency),
            "service_ms": milliseconds(tally.service),
            "send_lag_ms": milliseconds(tally.send_lag),
            "by_second": [
                {"second": second, "ok": recorded.get_total_count(), "failed": failed} | milliseconds(recorded)
                for second, (recorded, failed) in enumerate(zip(tally.by_second, tally.failed_by_second, strict=True))
            ],
            "connections_opened": self.opened,
            "most_in_flight": self.most_in_flight,
            "generator_cpu": cpu_seconds / seconds,
            "seconds": seconds,
            # the whole latency histogram, HdrHistogram's own compressed form: hdrh's decode() reads it back
            "latency_hdr": tally.latency.encode().decode(),
        }


def plan_from(argv: list[str] | None) -> Plan:
    """The command line, checked."""
    parser = argparse.ArgumentParser(prog="python -m harness.openloop", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("url", help="what to GET, such as http://127.0.0.1:8000/lab/io?ms=100")
    parser.add_argument("--rate", type=float, required=True, help="requests a second")
    parser.add_argument("--duration", type=float, required=True, help="seconds of schedule")
    parser.add_argument("--connections", type=int, default=500, help="at most this many connections (500)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds from a request's due time (10)")
    arguments = parser.parse_args(argv)
    if arguments.rate <= 0 or arguments.duration <= 0 or arguments.connections < 1 or arguments.timeout <= 0:
        parser.error("--rate, --duration, --connections and --timeout must be positive")
    parts = urlsplit(arguments.url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        parser.error(f"give an http:// URL with a host and a port, not {arguments.url!r}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Plan(
        parts.hostname, parts.port, target, arguments.rate, arguments.duration, arguments.connections, arguments.timeout
    )


async def run(plan: Plan) -> dict[str, object]:
    """One open-loop run of `plan`: its figures."""
    return await OpenLoop(plan).run()


def main(argv: list[str] | None = None) -> int:
    plan = plan_from(argv)
    raise_open_files_limit()
    print(json.dumps(uvloop.run(run(plan))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
