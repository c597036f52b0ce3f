"""What the fault tests observe in real processes (worker pids, what a merge logged, requests the server has read),
and a stop."""

from __future__ import annotations

import http.client
import json
import os
import signal
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from common.http import LOCK_UNAVAILABLE
from common.merge_log import MergeEvent, MergeStarted, events_in

EventT = TypeVar("EventT", bound=MergeEvent)

# the detail of the 503 the apps answer when Redis cannot be used (asgi_app/errors.py, wsgi_app/errors.py), and the
# one a process gets that waited on Redis past its socket timeout
REDIS_UNAVAILABLE = f"{LOCK_UNAVAILABLE}Redis lock unavailable: "
REDIS_TIMED_OUT = f"{REDIS_UNAVAILABLE}Timeout reading from "


def merge_holder_pid(log: str, branch_name: str) -> int | None:
    """The pid of the worker that logged the start of this branch's merge, or None before it has."""
    # the apps' log lines carry the worker's pid (common/logs.py)
    for logged in events_in(log):
        if isinstance(logged.event, MergeStarted) and logged.event.branch_name == branch_name:
            return logged.pid
    return None


def merge_said(log: str, kind: type[EventT], branch_name: str) -> EventT | None:
    """The first event of this kind that this branch's merge logged (common/merge_log.py), or None before it has."""
    for logged in events_in(log):
        if isinstance(logged.event, kind) and logged.event.branch_name == branch_name:
            return logged.event
    return None


def worker_pids(master_pid: int) -> set[int]:
    """The live worker processes of a server's main process, from /proc."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except FileNotFoundError:
        return set()
    workers = set()
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        # uvicorn starts its workers with multiprocessing's "spawn", which brings a resource tracker along
        if b"multiprocessing.resource_tracker" not in command:
            workers.add(int(child))
    return workers


class SlowRequest:
    """A GET sent on its own connection, whose answer is read later: a request in flight."""

    def __init__(self, base_url: str, path: str) -> None:
        url = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        self.connection.request("GET", path)
        assert self.connection.sock is not None
        self.server_port = url.port
        self.client_port: int = self.connection.sock.getsockname()[1]

    def has_been_read(self) -> bool:
        """Whether the server has read the whole request: its end of the connection has nothing left unread.

        In /proc/net/tcp, the server's side of this connection (local port = the server's, remote port
        = ours) shows in rx_queue the bytes the kernel holds that no process has read yet. A connection
        still waiting in the listen queue has its request there; once a worker has read it, it is 0.
        """
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local_port, remote_port = (int(address.split(":")[1], 16) for address in fields[1:3])
            if (local_port, remote_port) == (self.server_port, self.client_port):
                return int(fields[4].split(":")[1], 16) == 0
        return False

    def answer(self) -> tuple[int, Any]:
        """Wait for the answer: its status and its JSON body."""
        with closing(self.connection):
            response = self.connection.getresponse()
            return response.status, json.loads(response.read())


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The process stopped with SIGSTOP for the block (a stalled VM, a debugger), and continued after it."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
