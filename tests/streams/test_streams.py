"""Long-lived connections on real servers: streams that end when their client leaves, shutdown with streams open,
Gunicorn's sync worker killed at its timeout, and nginx in front.

What each server does is the lesson of docs/streams.md; these tests hold it to what the page says.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from launcher import RunningServer, ServerConfig, bearer, checkout_token, run_nginx, run_server, wait_for
from launcher.catalog import DOCS_RAW_ASGI, GUNICORN_GEVENT, GUNICORN_GTHREAD, GUNICORN_SYNC_1, GUNICORN_SYNC_2, UVICORN
from tests.support.api import sse_events
from tests.support.probes import worker_pids

HEARTBEAT_SECONDS = 0.5
ENV = {"EVENTS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS), "LOG_LEVEL": "debug", "MERGE_SECONDS": "0.5"}
STREAMS = 10
# the servers whose workers hold several streams at once; a sync worker holds one (the test below)
MANY_AT_ONCE = [pytest.param(UVICORN, id="uvicorn"), pytest.param(GUNICORN_GTHREAD, id="gthread")]
if GUNICORN_GEVENT.missing() is None:
    MANY_AT_ONCE.append(pytest.param(GUNICORN_GEVENT, id="gevent"))


def open_stream(url: str) -> socket.socket:
    """A raw connection that asks for /merge/events and has read the start of its answer."""
    connection = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10)
    connection.sendall(b"GET /merge/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    received = b""
    while b"event: status" not in received:
        chunk = connection.recv(4096)
        assert chunk, f"the server closed the stream before its status event: {received!r}"
        received += chunk
    return connection


def worker(server: RunningServer) -> int:
    """The one worker process of a server (the server itself for Uvicorn with one worker)."""
    workers = worker_pids(server.pid)
    return workers.pop() if len(workers) == 1 else server.pid


def descriptors(pid: int) -> int:
    """How many files and sockets the process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    """How many threads the process runs."""
    return len(os.listdir(f"/proc/{pid}/task"))


def settled(pid: int, reads: int = 4, interval: float = 0.25) -> tuple[int, int] | None:
    """The process's (descriptors, threads) if they read the same `reads` times `interval` apart, else None."""
    counts = {(descriptors(pid), threads(pid))}
    for _ in range(reads - 1):
        time.sleep(interval)
        counts.add((descriptors(pid), threads(pid)))
    return counts.pop() if len(counts) == 1 else None


def closed_streams(log: str) -> list[int]:
    """The open-stream counts the app logged as each stream closed ("... closed, 3 open in this worker")."""
    return [int(line.rsplit(", ", 1)[1].split()[0]) for line in log.splitlines() if "a stream closed" in line]


@pytest.mark.parametrize("config", MANY_AT_ONCE)
def test_streams_whose_clients_leave_end_and_leave_nothing_behind(config: ServerConfig) -> None:
    with run_server(config, ENV) as server:
        pid = worker(server)

        def round_of_streams() -> None:
            closed = len(closed_streams(server.log()))
            connections = [open_stream(server.url) for _ in range(STREAMS)]
            for connection in connections:
                connection.close()
            # each generator ends: at once on an event loop, at its next heartbeat on a WSGI server
            wait_for(lambda: len(closed_streams(server.log())) == closed + STREAMS, 10, "every stream to close")
            # threads close their streams at once and may log out of order: one of them saw none left
            assert 0 in closed_streams(server.log())[-STREAMS:]

        round_of_streams()  # the first round starts what stays (a pool's threads, the watcher's connection)
        # the watcher thread or task ends one poll after the last stream: take the baseline once it has
        before = wait_for(lambda: settled(pid), 10, "the counts to stop changing after the first round")
        for _ in range(3):
            round_of_streams()
        wait_for(
            lambda: descriptors(pid) <= before[0] and threads(pid) <= before[1], 10, "descriptors and threads to settle"
        )

        assert len(closed_streams(server.log())) == 4 * STREAMS
        assert "Traceback" not in server.log()


def test_a_sync_worker_holds_one_stream_and_serves_nobody_else_meanwhile() -> None:
    with run_server(GUNICORN_SYNC_1, ENV) as server:
        with contextlib.closing(open_stream(server.url)), pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{server.url}/public/test", timeout=2)
        # the worker writes its next heartbeat, fails, closes the stream and takes the next request
        assert httpx.get(f"{server.url}/public/test", timeout=10).status_code == 200


def test_a_sync_worker_that_streams_past_its_timeout_is_killed() -> None:
    # a sync worker tells the master it is alive only between requests: a stream longer than `timeout` is
    # a stuck worker to it, killed and replaced
    config = GUNICORN_SYNC_1.with_options("--timeout", "3")
    with run_server(config, ENV) as server:
        first = worker(server)
        started = time.monotonic()
        with (
            httpx.stream("GET", f"{server.url}/merge/events", timeout=30) as response,
            contextlib.suppress(httpx.RemoteProtocolError, httpx.ReadError),
        ):
            for _ in response.iter_lines():
                pass
        lasted = time.monotonic() - started
        wait_for(lambda: worker_pids(server.pid) - {first}, 15, "a new worker")

        assert 3 <= lasted < 10
        assert "WORKER TIMEOUT" in server.log()


SHUTDOWN = [
    pytest.param(UVICORN.with_options("--timeout-graceful-shutdown", "2"), id="uvicorn"),
    pytest.param(GUNICORN_SYNC_2.with_options("--graceful-timeout", "2"), id="gunicorn-sync"),
    pytest.param(GUNICORN_GTHREAD.with_options("--graceful-timeout", "2"), id="gunicorn-gthread"),
]


@pytest.mark.parametrize("config", SHUTDOWN)
def test_sigterm_with_streams_open_ends_them_within_the_graceful_timeout(config: ServerConfig) -> None:
    with run_server(config, ENV) as server:
        streams = [open_stream(server.url) for _ in range(2)]
        started = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        server.started.process.wait(timeout=15)
        stopped = time.monotonic() - started
        for stream in streams:
            stream.settimeout(5)
            with contextlib.closing(stream), contextlib.suppress(ConnectionResetError):
                while stream.recv(4096):
                    pass  # heartbeats until the server lets go; then the end of the connection

    # the server waits for the streams up to its graceful timeout (2 s here), then ends them
    assert 1.5 <= stopped < 6, f"stopped after {stopped:.2f} s"


@pytest.fixture(params=[pytest.param(UVICORN, id="uvicorn"), pytest.param(GUNICORN_GTHREAD, id="gthread")])
def behind_nginx(request: pytest.FixtureRequest, nginx_path: str) -> Iterator[str]:
    """nginx with deploy/nginx.conf in front of a server that holds several streams."""
    with run_server(request.param, ENV) as server, run_nginx([server.url], nginx=nginx_path) as nginx:
        yield nginx.url


def test_nginx_passes_each_event_on_as_it_comes(behind_nginx: str) -> None:
    with httpx.Client(base_url=behind_nginx, timeout=10) as client, client.stream("GET", "/merge/events") as response:
        events = sse_events(response)
        assert next(events).event == "status"
        started = time.monotonic()
        answer = client.post("/merge", json={"branch_name": "feature/proxied"}, headers=bearer(checkout_token()))
        token = answer.json()["fencing_token"]
        event = next(events)
        # buffered, the event would wait for nginx's buffer to fill or the stream to end
        assert (event.event, event.id) == ("merge-started", f"{token}-started")
        assert time.monotonic() - started < 2
        assert json.loads(next(events).data)["outcome"] == "released"


def test_nginx_passes_a_websocket_on(behind_nginx: str) -> None:
    with connect(behind_nginx.replace("http://", "ws://") + "/lab/echo", open_timeout=10) as websocket:
        websocket.send("through nginx")
        assert websocket.recv(timeout=10) == "through nginx"


def test_raw_asgi_app_echoes_a_websocket() -> None:
    with run_server(DOCS_RAW_ASGI, ready_path="/hello") as server:
        with connect(server.url.replace("http://", "ws://") + "/echo", open_timeout=10) as websocket:
            websocket.send("raw")
            websocket.send(b"bytes")
            assert [websocket.recv(timeout=10), websocket.recv(timeout=10)] == ["raw", b"bytes"]
        assert "Traceback" not in server.log()
