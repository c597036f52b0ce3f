"""A pause, from a real run: a merge holds its lease, its event loop stops for longer than the lease, another
worker takes over, and the fence refuses the paused merge's late end. Told by the servers' log lines (every
renewal, the loss, the refusal) and by the ledger; drawn as one timeline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from common import merge_log
from common.merge_log import LeaseLost, LeaseRenewed, MergeEnded, MergeFencedOff, MergeStarted, events_in
from launcher import RunningServer, StillWaitingError, bearer, checkout_token, run_server, wait_for
from launcher.catalog import UVICORN_W2

LEASE_SECONDS = 1.0
MERGE_SECONDS = 2.5
PAUSE_SECONDS = 2.0  # /lab/blocking's longest stall: twice the lease
# the merge's lines the timeline draws (common/merge_log.py), each named by its event's kind in pause.json
DRAWN = (MergeStarted, LeaseRenewed, LeaseLost, MergeEnded, MergeFencedOff)


@dataclass
class Event:
    """One thing a merge logged, at `at` seconds from the first event of the run."""

    at: float
    pid: int
    fencing_token: int
    kind: str  # started, renewed, lost, ended: released, ended: fenced off


@dataclass
class PauseRun:
    """What the run saw: each merge's events, the pause as the client timed it, the ledger's outcomes."""

    events: list[Event] = field(default_factory=list)
    paused_pid: int = 0
    pause: tuple[float, float] = (0.0, 0.0)  # seconds from the first event
    outcomes: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data."""
        return asdict(self)


def read_events(log: str) -> list[tuple[float, Event]]:
    """Every merge event of the log that the timeline draws, with its time of day."""
    return [
        (logged.seconds_of_day, Event(0.0, logged.pid, logged.event.fencing_token, logged.event.kind))
        for logged in events_in(log)
        if isinstance(logged.event, DRAWN)
    ]


def connection_to(url: str, pid: int) -> httpx.Client:
    """A kept-alive connection that the worker `pid` accepted: each answer of /lab/io names its process."""
    return _connection(url, lambda answered: answered == pid, f"worker {pid}")


def connection_past(url: str, pid: int) -> httpx.Client:
    """A kept-alive connection that a worker other than `pid` accepted."""
    return _connection(url, lambda answered: answered != pid, f"a worker other than {pid}")


def _connection(url: str, accepted_by: Callable[[int], bool], what: str) -> httpx.Client:
    for _ in range(100):
        client = httpx.Client(base_url=url, timeout=10)
        if accepted_by(client.get("/lab/io", params={"ms": 0}).json()["pid"]):
            return client
        client.close()
    raise RuntimeError(f"no connection reached {what} in 100 tries")


def holder_pid(server: RunningServer, fencing_token: int) -> int:
    """The worker that logged this merge's start."""
    for _, event in read_events(server.log()):
        if event.kind == "started" and event.fencing_token == fencing_token:
            return event.pid
    raise LookupError(fencing_token)


def run(folder: Path) -> PauseRun:
    """Start the merge, pause its worker's event loop past the lease, press merge from outside, and read it back."""
    env = {"MERGE_SECONDS": str(MERGE_SECONDS), "LOCK_LEASE_SECONDS": str(LEASE_SECONDS), "LOG_LEVEL": "debug"}
    result = PauseRun()
    with run_server(UVICORN_W2.with_settings(timeout_graceful_shutdown=1), env, folder=folder) as server:
        authorization = bearer(checkout_token())
        started = httpx.post(f"{server.url}/merge", json={"branch_name": "paused"}, headers=authorization, timeout=10)
        first = started.json()["fencing_token"]
        result.paused_pid = wait_for(lambda: _holder_or_none(server, first), 5, "the merge to start")
        pressing = threading.Event()
        press_failed: list[httpx.HTTPError] = []
        # the presses go to the other worker, on a connection it accepted: a new connection per press could be
        # accepted by the paused worker just before its loop stalls and wait out the pause there, which leaves
        # the lapsed lease to nobody until that loop resumes
        with (
            closing(connection_to(server.url, result.paused_pid)) as client,
            closing(connection_past(server.url, result.paused_pid)) as successor,
        ):

            def press() -> None:
                try:
                    while not pressing.is_set():
                        successor.post("/merge", json={"branch_name": "successor"}, headers=authorization)
                        time.sleep(0.05)
                except httpx.HTTPError as error:
                    press_failed.append(error)

            time.sleep(LEASE_SECONDS / 2)  # a renewal or two before the pause, for the picture
            presser = threading.Thread(target=press)
            presser.start()
            try:
                paused_at = clock_now()
                client.get("/lab/blocking", params={"ms": int(PAUSE_SECONDS * 1000)})
                resumed_at = clock_now()
                wait_for(lambda: fenced_off(server.log()), 10, "the paused merge's refused end")
            except StillWaitingError as error:
                failed = f"; the presses stopped: {press_failed[0]!r}" if press_failed else ""
                raise StillWaitingError(f"{error}{failed}; the merges logged:\n{merge_lines(server.log())}") from None
            finally:
                # before the server stops: a presser left running would be reset by its shutdown
                pressing.set()
                presser.join()
        wait_for(lambda: not httpx.get(f"{server.url}/merge").json()["busy"], 10, "the successor to end")
        merges = httpx.get(f"{server.url}/merge/history", params={"limit": 10}).json()["merges"]
        log = server.log()
    timed = read_events(log)
    zero = min(at for at, _ in timed)
    for at, event in timed:
        event.at = round(at - zero, 3)
        result.events.append(event)
    result.pause = (round(paused_at - zero, 3), round(resumed_at - zero, 3))
    result.outcomes = {merge["fencing_token"]: merge["outcome"] for merge in merges}
    return result


def fenced_off(log: str) -> bool:
    """Whether a merge of this log had its end refused."""
    return any(isinstance(logged.event, MergeFencedOff) for logged in events_in(log))


def merge_lines(log: str) -> str:
    """The lines of a server's log that speak of a merge, or of a worker that died."""
    return "\n".join(line for line in log.splitlines() if merge_log.parse(line) is not None or "died" in line)


def _holder_or_none(server: RunningServer, fencing_token: int) -> int | None:
    try:
        return holder_pid(server, fencing_token)
    except LookupError:
        return None


def clock_now() -> float:
    """The time of day in seconds, on the clock the log lines are written with (local time)."""
    now = time.localtime()
    return now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec + time.time() % 1
