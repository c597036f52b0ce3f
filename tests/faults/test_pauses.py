"""A holder that pauses: longer than its lease, it loses it, another merge starts and the fence refuses the paused
merge's late end; shorter, it keeps it, unless the machine stalls it for the rest of a lease on top. Either way
the ledger and the logs show one merge at a time, and no merge loses its lease before a lease without a renewal.

A pause is what Kleppmann warns about: a process stopped by a garbage collector, a blocked event loop, a
SIGSTOP, a stalled VM. While it is stopped it cannot renew its lease, and it cannot know that it has lost it
until it runs again. Each case hammers POST /merge for a bounded time from four threads and pauses the
holder once: its event loop blocked with /lab/blocking on `uvicorn --workers 2`, its worker stopped with
SIGSTOP on `gunicorn -w 2`, and on a Uvicorn and a Gunicorn sharing one Redis whichever holds the merge.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
import redis

from common.lock.redis import SOCKET_TIMEOUT_SECONDS
from common.merge_log import END_EVENTS, LeaseLost, MergeDone, MergeEnded, MergeFencedOff, MergeStarted, events_in
from harness.pause import connection_to
from launcher import RunningServer, bearer, checkout_token, run_server, wait_for
from launcher.catalog import GUNICORN_SYNC_1, GUNICORN_SYNC_2, UVICORN, UVICORN_W2
from tests.support.api import ApiClient
from tests.support.figures import RecordFigure
from tests.support.probes import REDIS_TIMED_OUT, stopped

pytestmark = pytest.mark.slow

LEASE_SECONDS = 1.0  # renewed every third of a second
MERGE_SECONDS = 2.0
# /lab/blocking stalls an event loop for at most 2 s: a long pause is twice the lease, a short one leaves the
# merge a renewal to spare (a lease lasts a third of a second past two missed renewals)
PAUSES = {"none": 0.0, "short": 0.4, "long": 2.0}
HAMMER_SECONDS = 7.0
# a thread whose request the paused worker took just before the pause waits with it; on uvicorn-w2 (one URL, two
# workers) two threads could both be caught so, and then nobody pressed where a successor could be granted
# (seen once in CI: the paused merge ended "released", its lease lapsed with no contender); four make it unlikely
HAMMER_THREADS = 4
# how far a merge's own count may fall short of the lease it lost with the lock still right: the print rounds to the
# millisecond, Redis ends a lease to the millisecond, and SQLite's and Redis's leases run on the wall clock, which
# NTP may slew by half a millisecond a second against the monotonic count (a clock stepped forward takes leases
# early, and fails this honestly)
COUNTING_SECONDS = 0.002


@dataclass
class Setup:
    """Servers sharing one lock, and how to pause the holder of a merge."""

    servers: list[RunningServer]
    pause_with: str  # "blocking": /lab/blocking on the holder's event loop; "sigstop": stop its process

    def logs(self) -> str:
        """Every server's log, one after the other."""
        return "\n".join(server.log() for server in self.servers)


@pytest.fixture(params=["uvicorn-w2", "gunicorn-sync-w2", "uvicorn-and-gunicorn-on-redis"])
def setup(request: pytest.FixtureRequest) -> Iterator[Setup]:
    """The servers of one case, with a 1 s lease and 2 s merges."""
    env = {"MERGE_SECONDS": str(MERGE_SECONDS), "LOCK_LEASE_SECONDS": str(LEASE_SECONDS)}
    quick = {"timeout_graceful_shutdown": 1}  # the test need not wait for the last merge when it stops
    with ExitStack() as stack:
        if request.param == "uvicorn-w2":
            yield Setup([stack.enter_context(run_server(UVICORN_W2.with_settings(**quick), env))], "blocking")
        elif request.param == "gunicorn-sync-w2":
            yield Setup([stack.enter_context(run_server(GUNICORN_SYNC_2, env))], "sigstop")
        else:
            redis_url = request.getfixturevalue("redis_url")
            with redis.Redis.from_url(redis_url) as client:
                client.flushdb()
            shared = {**env, "LOCK_URL": redis_url}
            servers = [run_server(UVICORN.with_settings(**quick), shared), run_server(GUNICORN_SYNC_1, shared)]
            yield Setup([stack.enter_context(server) for server in servers], "sigstop")


class Hammer:
    """Threads that press POST /merge for a bounded time, a thread per server in turn, every new connection."""

    def __init__(self, urls: list[str], seconds: float) -> None:
        self.urls = urls
        self.deadline = time.monotonic() + seconds
        self.answers: list[tuple[str, int, str]] = []  # (server URL, status, body); status 0: the client timed out
        self.threads = [threading.Thread(target=self._press, args=(number,)) for number in range(HAMMER_THREADS)]

    def __enter__(self) -> Hammer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        for thread in self.threads:
            thread.join()

    @property
    def statuses(self) -> list[int]:
        """The status of each answer, in order; 0 for a request that timed out."""
        return [status for _, status, _ in self.answers]

    def _press(self, number: int) -> None:
        # one server per thread: a thread that took turns would sooner or later wait on the paused server
        # with the others, and nobody would press where a successor can be granted
        url = self.urls[number % len(self.urls)]
        presses = 0
        while time.monotonic() < self.deadline:
            presses += 1
            try:
                # a new connection each time, so that a worker stalled with one does not stall the hammer
                body = {"branch_name": f"hammer/{number}-{presses}"}
                answer = httpx.post(f"{url}/merge", json=body, headers=bearer(checkout_token()), timeout=5)
                self.answers.append((url, answer.status_code, answer.text))
            except httpx.TimeoutException:
                self.answers.append((url, 0, "timed out"))
            time.sleep(0.02)


def running_merge(setup: Setup) -> tuple[int, int, str]:
    """(pid of the holder, fencing token, URL of the server whose log has its start) of the merge running now."""
    status = httpx.get(f"{setup.servers[0].url}/merge", timeout=5).json()  # the servers share one lock
    if status["busy"]:
        for server in setup.servers:
            for logged in events_in(server.log()):
                if isinstance(logged.event, MergeStarted) and logged.event.fencing_token == status["fencing_token"]:
                    return logged.pid, status["fencing_token"], server.url
    raise LookupError("no merge is running")


def pause(setup: Setup, pid: int, url: str, seconds: float) -> float:
    """Stop the holder for `seconds`: block its event loop, or SIGSTOP it and SIGCONT it. Return how long the
    pause took as this test saw it: on a busy machine the SIGCONT can come late."""
    if setup.pause_with == "blocking":
        with closing(connection_to(url, pid)) as client:  # it may take a few connections to reach that worker
            began = time.monotonic()
            answer = client.get("/lab/blocking", params={"ms": int(seconds * 1000)})
            took = time.monotonic() - began
        assert answer.status_code == 200
        return took
    began = time.monotonic()
    with stopped(pid):
        time.sleep(seconds)  # the pause itself: the process is stopped for this long
    return time.monotonic() - began


def accepted_intervals(merges: list[dict[str, Any]]) -> list[tuple[int, datetime, datetime]]:
    """Each merge as the ledger accepted it: from its start to its end, or its start alone if its end was refused."""
    intervals = []
    for merge in sorted(merges, key=lambda merge: merge["fencing_token"]):
        started = datetime.fromisoformat(merge["started_at"])
        ended = datetime.fromisoformat(merge["ended_at"]) if merge["ended_at"] else started
        intervals.append((merge["fencing_token"], started, ended))
    return intervals


def overlaps(intervals: list[tuple[int, Any, Any]]) -> list[tuple[int, int]]:
    """Consecutive merges (by fencing token) whose intervals overlap."""
    return [(a[0], b[0]) for a, b in itertools.pairwise(intervals) if a[2] > b[1]]


def logged_intervals(log: str) -> list[tuple[int, float, float]]:
    """Each merge as its own log lines tell it: from "started" to "done", the moment its work was over, for a merge
    whose end the ledger then recorded as released; a merge whose end was fenced off or not recorded did no work
    after its start that the resource accepted. ("ended: released" comes after the end is written, when another
    worker may already have started the next merge: a pause between the two lines is not an overlap.)"""
    started: dict[int, float] = {}
    done: dict[int, float] = {}
    released: set[int] = set()
    for logged in events_in(log):
        event = logged.event
        if isinstance(event, MergeStarted):
            started[event.fencing_token] = logged.seconds_of_day
        elif isinstance(event, MergeDone):
            done[event.fencing_token] = logged.seconds_of_day
        elif isinstance(event, MergeEnded) and event.outcome == "released":
            released.add(event.fencing_token)
    return [(token, started[token], done[token] if token in released else started[token]) for token in sorted(started)]


@pytest.mark.parametrize("length", list(PAUSES))
def test_a_paused_holder_never_makes_two_merges_run_at_once(
    setup: Setup, length: str, record_figure: RecordFigure
) -> None:
    urls = [server.url for server in setup.servers]
    with Hammer(urls, HAMMER_SECONDS) as hammer:
        pid, paused_token, url = wait_for(lambda: _running_or_none(setup), 5, "the hammer's first merge")
        paused = pause(setup, pid, url, PAUSES[length]) if PAUSES[length] else 0.0
    with closing(ApiClient(urls[0], checkout_token())) as api:
        # not just until the resource is free: a merge stalled past its lease is still running, and says how it
        # ended only when it runs again
        merges = wait_for(lambda: every_end_logged(api, setup), MERGE_SECONDS + 5 * LEASE_SECONDS, "every end")
    log = setup.logs()

    assert [answer for answer in hammer.answers if not expected(answer, setup, url, paused)] == [], (url, pid, paused)
    assert hammer.statuses.count(202) == len(merges) >= 2
    # the invariant, where it lives: in the ledger, and in what the merges themselves logged
    assert overlaps(accepted_intervals(merges)) == []
    assert overlaps(logged_intervals(log)) == []
    outcomes = {merge["fencing_token"]: merge["outcome"] for merge in merges}
    record_figure("merges", len(merges), unit="")
    record_figure("refused", hammer.statuses.count(409), unit="")
    record_figure("paused for", paused)
    # what the lock promises a holder: it loses its lease only once it has gone a whole lease without a renewal
    # that held; a merge that did not end released says, in its last word, how long it went
    unrenewed: dict[int, float] = {}
    for logged in events_in(log):
        if isinstance(logged.event, LeaseLost | MergeFencedOff):
            # its first word on it, when it learnt: a fenced-off end comes later and counts the end's write too
            unrenewed.setdefault(logged.event.fencing_token, logged.event.unrenewed.seconds)
    not_released = [token for token, ended in outcomes.items() if ended != "released"]
    for token in not_released:
        assert token in unrenewed, (f"merge {token} ended {outcomes[token]!r} and logged no count", log[-3000:])
        assert unrenewed[token] >= LEASE_SECONDS - COUNTING_SECONDS, (token, outcomes, paused, log[-3000:])
    # with no pause, or one shorter than the lease (it leaves the merge a renewal to spare), that promise is the
    # whole check: every merge runs to its end and lets go unless this shared machine stalls one for the rest of a
    # lease on top of the pause (a process not scheduled, a commit waiting on a busy disk; seen once in CI,
    # gunicorn-sync-w2 with the short pause: a merge ended 'fenced off'), and a lock that took a lease from a merge
    # that renewed in time fails it; the figure says how many did not end released
    record_figure("merges that did not end released", len(not_released), unit="")
    if length == "long":
        # the paused merge lost its lease while stopped and stopped acting as the holder, in one of two ways:
        # - a successor was granted during the pause, and the fence refused the paused merge's late end;
        # - nothing could be granted during the pause, because the stop caught the holder inside a write to the
        #   store (a renewal holding SQLite's write lock, which every grant needs): on waking, the merge saw its
        #   renewal's answer come after its lease could have run out and wrote "lease lost" itself, before any
        #   successor (seen once in CI, on gunicorn-sync-w2: {1: 'lease lost', 2: 'released', ...})
        outcome = outcomes[paused_token]
        assert outcome in {"fenced off", "lease lost"}, (outcomes, hammer.statuses.count(0), log[-3000:])
        # why it lost it: its lease had run out, or, on a machine this busy, the renewal could not reach the
        # store in time
        said = [logged.event for logged in events_in(log) if logged.event.fencing_token == paused_token]
        assert any(isinstance(event, LeaseLost) for event in said), log[-3000:]
        assert any(isinstance(event, MergeEnded | MergeFencedOff) and event.outcome == outcome for event in said), said
        # the merges after it are held to the promise above, like every other: released, unless the machine
        # stalled one for a lease


def expected(answer: tuple[str, int, str], setup: Setup, paused_url: str, paused: float) -> bool:
    """Whether an answer is one the hammer may get: 202 or 409; none (0: the client's 5 s timeout passed, which
    the test tolerates from any server rather than bet on how long a loaded machine takes to answer after a
    pause); or a 503 from a stopped Uvicorn whose wait on Redis the stop carried past its socket timeout
    (tests/faults/test_redis_down.py::test_a_process_stopped_while_it_waits_on_redis)."""
    url, status, body = answer
    if status in {202, 409, 0}:
        return True
    server = next(server for server in setup.servers if server.url == url)
    return (
        status == 503
        and url == paused_url
        and server.config.interface == "asgi"
        and paused >= SOCKET_TIMEOUT_SECONDS
        and REDIS_TIMED_OUT in body
    )


def every_end_logged(api: ApiClient, setup: Setup) -> list[dict[str, Any]] | None:
    """The ledger's merges once each has logged how it ended, or None before: the log is read first, since a
    merge logs its end after the ledger has it"""
    log = setup.logs()
    merges: list[dict[str, Any]] = api.merge_history(limit=100).json()["merges"]
    ended = {logged.event.fencing_token for logged in events_in(log) if isinstance(logged.event, END_EVENTS)}
    return merges if all(merge["fencing_token"] in ended for merge in merges) else None


def _running_or_none(setup: Setup) -> tuple[int, int, str] | None:
    try:
        return running_merge(setup)
    except LookupError:
        return None
