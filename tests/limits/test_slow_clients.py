"""The slow-client lesson, as behaviour: as many slow clients as sync workers stall Gunicorn; nginx in front does not.

A slow client sends the start of a request and then one header byte every half second (benchmarks/slowclients.py
measures how the servers fare with 0 to 50 of them). A sync worker reads a request head with a blocking read, so
each slow client takes a whole worker; Uvicorn's event loop reads whatever has arrived and moves on; nginx reads
the whole request before it passes it on, so the app never meets the slow client at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import httpx
import pytest

from harness.slowclients import SlowClients
from launcher import ServerConfig, run_nginx, run_server
from launcher.catalog import GUNICORN_SYNC_1, GUNICORN_SYNC_2, UVICORN

# how long a stalled server is given to prove it is stalled; a server that is not stalled answers in
# milliseconds, and an answer after this would still show the stall (see the timing in the benchmark)
STALL_WINDOW = 3.0
ANSWER_DEADLINE = 30.0


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(GUNICORN_SYNC_1, id="gunicorn-sync-w1"),
        pytest.param(GUNICORN_SYNC_2, id="gunicorn-sync-w2"),
        pytest.param(UVICORN, id="uvicorn"),
    ],
)
def target(request: pytest.FixtureRequest, nginx_path: str) -> Iterator[tuple[ServerConfig, str, str]]:
    """(config, direct URL, URL through nginx running deploy/nginx.conf) for each server."""
    config: ServerConfig = request.param
    with run_server(config, {}) as server, run_nginx([server.url], nginx=nginx_path) as nginx:
        yield config, server.url, nginx.url


def test_as_many_slow_clients_as_sync_workers_stall_gunicorn_not_uvicorn(
    target: tuple[ServerConfig, str, str],
) -> None:
    config, url, _ = target
    # a sync worker only takes a connection when it is free, so each slow client ends up on its own worker
    slow_clients = max(config.workers, 2)
    with ThreadPoolExecutor(1) as pool:
        with SlowClients(url, slow_clients):
            answer = pool.submit(httpx.get, f"{url}/public/test", timeout=ANSWER_DEADLINE)
            if config.interface == "wsgi":
                with pytest.raises(FutureTimeout):
                    answer.result(timeout=STALL_WINDOW)
            else:
                assert answer.result(timeout=ANSWER_DEADLINE).status_code == 200
        # once the slow clients give up, the request that waited behind them is served
        assert answer.result(timeout=ANSWER_DEADLINE).status_code == 200


def test_through_nginx_slow_clients_stall_no_server(target: tuple[ServerConfig, str, str]) -> None:
    config, _, proxy_url = target
    with SlowClients(proxy_url, max(config.workers, 2) * 5):
        assert httpx.get(f"{proxy_url}/public/test", timeout=ANSWER_DEADLINE).status_code == 200
