"""Request timelines: N clients send one /lab request each at the same moment, and each answer says when and where
it ran (its process, its thread, its start and end on the server's clock).

A lane is one process and thread of the server. A request's bar runs from its start to its end on the lane that
ran it; before that, from the moment its client sent it, it waited in a queue (the listen socket's, a thread
pool's, the event loop's), which the chart's lower panel counts. For /lab/db a lane is one pooled connection, and
the bar starts when the pool handed it over: the queue before it is the wait for a connection. Everything is one
machine, so the client's clock and the server's are the same clock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import httpx

from launcher import CLIENT_LIMITS, ServerConfig, ToolNotFoundError, postgres_bin_dir, run_postgres, run_server

T = TypeVar("T")


@dataclass(frozen=True)
class Lesson:
    """One timeline: a server configuration, a lab route, how many clients at once."""

    id: str
    server: ServerConfig
    path: str  # /lab/io?ms=200
    clients: int
    title: str
    computing: bool = False  # the route burns CPU (drawn solid) rather than waits (drawn hatched)
    # an event stream (/lab/stream): its bar runs from the first event to the last as the client received them,
    # on one lane per process (a tick says its pid, not its thread)
    stream: bool = False
    # /lab/db: a PostgreSQL for the server (DATABASE_URL), and its settings (DB_POOL_SIZE)
    postgres: bool = False
    env: dict[str, str] = field(default_factory=dict)

    def missing(self) -> str | None:
        """Why this lesson cannot run here (its server, or PostgreSQL, is not installed), or None."""
        if reason := self.server.missing():
            return reason
        if self.postgres:
            try:
                postgres_bin_dir()
            except ToolNotFoundError as error:
                return f"{self.id}: skipped, {error}"
        return None


@dataclass(frozen=True)
class Request:
    """One request as both ends saw it; times in seconds from the moment the clients were released."""

    client: int
    sent: float
    started: float
    ended: float
    answered: float
    pid: int
    thread: str
    thread_id: int


@dataclass(frozen=True)
class Timeline:
    """A lesson's requests, in the order they started."""

    lesson: str
    title: str
    server: str
    path: str
    computing: bool
    requests: list[Request]
    lanes: str = "a lane per process and thread"  # what a lane of the chart is

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        """The timeline `as_dict` wrote (timelines.json), to draw it again."""
        return cls(**{**data, "requests": [Request(**request) for request in data["requests"]]})


def stream_span(http: httpx.Client, path: str) -> dict[str, object]:
    """Read an event stream to its end: when its first and last events arrived, and the pid its ticks name."""
    first = last = 0.0
    pid = 0
    with http.stream("GET", path) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                last = time.time()
                first = first or last
                pid = int(json.loads(line.removeprefix("data:"))["pid"])
    return {"started_at": first, "ended_at": last, "pid": pid, "thread": "its streams", "thread_id": pid}


def at_once(urls: list[str], act: Callable[[int, httpx.Client], T], timeout: float) -> tuple[float, dict[int, T]]:
    """One kept-alive connection per URL, each warmed with GET /public/test in a thread of its own, then `act` on
    all of them at the same moment: the moment of the release, and what each act returned, by its index (none for
    an act that raised, whose thread prints why)."""
    with ExitStack() as stack:
        # built first: building 50 clients takes a second, which the first warmed connections would idle
        clients = [
            stack.enter_context(httpx.Client(base_url=url, timeout=timeout, limits=CLIENT_LIMITS)) for url in urls
        ]
        # a client that fails breaks the barrier for the others after `timeout`, instead of leaving them waiting
        barrier = threading.Barrier(len(clients) + 1, timeout=timeout)
        results: dict[int, T] = {}

        def run(index: int) -> None:
            clients[index].get("/public/test")  # connected before the barrier, so that only the act is timed
            barrier.wait()
            results[index] = act(index, clients[index])

        threads = [threading.Thread(target=run, args=(index,)) for index in range(len(clients))]
        for thread in threads:
            thread.start()
        barrier.wait()
        released = time.time()
        for thread in threads:
            thread.join(timeout)
    return released, results


def run_lesson(lesson: Lesson, timeout: float = 60.0) -> Timeline:
    """Start the server, release `clients` requests at once (one thread and connection each), gather the answers."""

    def send(_: int, http: httpx.Client) -> tuple[float, float, dict[str, object]]:
        sent = time.time()
        body = stream_span(http, lesson.path) if lesson.stream else http.get(lesson.path).json()
        return sent, time.time(), body

    with ExitStack() as stack:
        env = {"LOG_LEVEL": "warning", **lesson.env}
        if lesson.postgres:
            env["DATABASE_URL"] = stack.enter_context(run_postgres()).url
        server = stack.enter_context(run_server(lesson.server, env))
        released, answers = at_once([server.url] * lesson.clients, send, timeout)
    # a /lab/db answer names the pooled connection (its PostgreSQL backend) and when the pool handed it over
    pooled = all("backend_pid" in body for _, _, body in answers.values())
    requests = [
        Request(
            client=client,
            sent=sent - released,
            started=float(body["got_connection_at" if pooled else "started_at"]) - released,  # type: ignore[arg-type]
            ended=float(body["ended_at"]) - released,  # type: ignore[arg-type]
            answered=answered - released,
            pid=int(body["pid"]),  # type: ignore[call-overload]
            thread="connection" if pooled else str(body["thread"]),
            thread_id=int(body["backend_pid" if pooled else "thread_id"]),  # type: ignore[call-overload]
        )
        for client, (sent, answered, body) in answers.items()
    ]
    if len(requests) != lesson.clients:
        raise RuntimeError(f"{lesson.id}: {lesson.clients - len(requests)} of {lesson.clients} requests got no answer")
    requests.sort(key=lambda request: request.started)
    lanes = "a lane per pooled connection" if pooled else "a lane per process and thread"
    return Timeline(lesson.id, lesson.title, lesson.server.id, lesson.path, lesson.computing, requests, lanes)
