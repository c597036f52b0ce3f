"""A smoke run of every row of the launcher's catalog: each starts, answers, and (when it serves our API) merges,
streams, and either echoes a WebSocket or refuses it cleanly. The contract suite itself runs against any row with
`pytest tests/contract --servers <id>` (`make contract-rows` runs it against every row that serves our API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from common.http import PUBLIC_MESSAGE
from launcher import CONFIGS, RunningServer, ServerConfig, checkout_token, run_server
from launcher.catalog import DJANGO_ASGI, DJANGO_WSGI, GUNICORN_GEVENT, GUNICORN_GTHREAD, framework, serves_our_api
from tests.support.api import ApiClient, sse_events

ROWS = [pytest.param(row, id=row.id) for row in CONFIGS.values()]


def websocket_expected(row: ServerConfig) -> bool:
    """Where /lab/echo is a WebSocket: every ASGI server of the FastAPI app, and Gunicorn's WSGI workers, which
    hand Flask the connection's socket; a WSGI adapter on an ASGI server, Granian's WSGI and Waitress cannot."""
    if row.interface == "asgi":
        return framework(row) == "FastAPI"
    return row.server == "gunicorn"


@contextmanager
def serving(row: ServerConfig) -> Iterator[RunningServer]:
    if reason := row.missing():
        pytest.skip(reason)
    # merges long enough that the second POST finds the first one running, on a busy machine too
    with run_server(row, {"MERGE_SECONDS": "2"}) as server:
        yield server


@pytest.mark.parametrize("row", ROWS)
def test_every_row_serves_its_app(row: ServerConfig) -> None:
    # one server a row: a row of our API also merges, streams, and echoes or refuses a WebSocket
    with serving(row) as server:
        answers_its_app(server)
        if serves_our_api(row):
            merges_streams_and_echoes(server)


def answers_its_app(server: RunningServer) -> None:
    """Hello, and for the Django project each of its three views, and its 422 (sync and async views alike)."""
    row = server.config
    hello = httpx.get(f"{server.url}/public/test", timeout=10)
    assert hello.status_code == 200
    if serves_our_api(row) or row.app in (DJANGO_ASGI, DJANGO_WSGI):
        assert hello.json() == {"message": PUBLIC_MESSAGE}
    if row.app in (DJANGO_ASGI, DJANGO_WSGI):
        for route in ("io", "async-io", "blocking"):
            answer = httpx.get(f"{server.url}/lab/{route}", params={"ms": 5}, timeout=10)
            assert answer.status_code == 200, (route, answer.text)
            assert answer.json()["waited_ms"] == 5
            refused = httpx.get(f"{server.url}/lab/{route}", params={"ms": "abc"}, timeout=10)
            assert refused.status_code == 422, (route, refused.text)
            assert [issue["loc"] for issue in refused.json()["detail"]] == [["query", "ms"]]
    assert "Traceback" not in server.log()


def merges_streams_and_echoes(server: RunningServer) -> None:
    """A merge, a second one refused meanwhile, a stream, and /lab/echo: a WebSocket, or a clean refusal."""
    row = server.config
    api = ApiClient(server.url, token=checkout_token())  # the token run_server gives the app
    try:
        accepted = api.start_merge("smoke")
        assert accepted.status_code == 202, accepted.text + server.log()[-2000:]
        refused = api.start_merge("second")
        assert refused.status_code == 409
        assert int(refused.headers["Retry-After"]) >= 1
        api.wait_until_free()
        [last] = api.merge_history(limit=1).json()["merges"]
        assert (last["branch_name"], last["outcome"]) == ("smoke", "released")

        with api.http.stream("GET", "/lab/stream", params={"n": 2, "ms": 10}) as response:
            ticks = [json.loads(event.data)["n"] for event in sse_events(response)]
        assert ticks == [1, 2]
    finally:
        api.close()

    url = server.url.replace("http://", "ws://") + "/lab/echo"
    if websocket_expected(row):
        with connect(url, open_timeout=10) as websocket:
            websocket.send("ping")
            assert websocket.recv(timeout=10) == "ping"
    else:
        with pytest.raises(InvalidStatus) as refusal:
            connect(url, open_timeout=10)
        assert refusal.value.response.status_code in (403, 501)  # refused, never a 500
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("row", [GUNICORN_GTHREAD, GUNICORN_GEVENT], ids=["gthread", "gevent"])
def test_flasks_async_view_answers_concurrent_requests(row: ServerConfig) -> None:
    """Twenty requests at once to the async view: each 200. Under gevent, Flask's own async_to_sync gave 500s
    (a loop already running in the one real thread); wsgi_app/app.py runs the coroutines in real threads."""
    with serving(row) as server, ThreadPoolExecutor(20) as pool:
        answers = list(
            pool.map(lambda _: httpx.get(f"{server.url}/lab/async-io", params={"ms": 200}, timeout=30), range(20))
        )
        assert [answer.status_code for answer in answers] == [200] * 20, answers[0].text
        assert "Traceback" not in server.log()
