"""Merge: a crowd of users keeps pressing POST /merge, and the server must accept one merge per hold.

While a merge holds the shared resource, 409 is the right answer, so it counts as a success; any other
status fails. The scenario also checks the lock: two 202s closer together than one hold mean the server
granted the shared resource twice (the in-memory lock does that with two worker processes). Each such
overlap is a failure named "overlapping holds", the run ends with one line

    merge: 9 accepted, 2150 refused (409), 0 overlapping holds

and with exit code 1 if any hold overlapped.

    locust -f benchmarks/locustfiles/merge.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/merge.py --host http://127.0.0.1:8000   # one user, every request printed
"""

from __future__ import annotations

import itertools
import logging
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import ANY

from _common import DEFAULT_HOST, judge, merge_headers
from locust import FastHttpUser, between, constant, events, run_single_user, task
from locust.env import Environment
from locust.runners import MasterRunner

logger = logging.getLogger("merge")

# how much closer than one hold two 202s may look without a double grant: the client stamps a 202 when it
# arrives, one response time after the server granted the hold, and response times vary from request to
# request (the server queues, Locust's users take turns on one thread); retry_after is also rounded to
# 0.1 s. Two holds granted at once (one per worker process) arrive far closer than this, so the margin
# hides no real overlap.
TOLERANCE_SECONDS = 0.2


def merge_seconds_from_environment() -> float | None:
    """The hold the server was started with, when MERGE_SECONDS is set for Locust too; None otherwise."""
    value = os.environ.get("MERGE_SECONDS")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise SystemExit(f"MERGE_SECONDS={value!r} is not a number of seconds, e.g. MERGE_SECONDS=10") from None


MERGE_SECONDS = merge_seconds_from_environment()


class OverlappingHoldsError(Exception):
    """Two merges were accepted within one hold: the lock granted the shared resource twice."""


@dataclass
class MergeLedger:
    """What this Locust process saw of the merges: when each 202 arrived, the 409s, the overlaps.

    It lives in this module, so it covers the users of one Locust process only: a distributed run
    (--master with --worker processes) would need the server's own view to find overlaps between workers.
    """

    merge_seconds: float | None = None
    accepted_at: list[float] = field(default_factory=list)
    refused: int = 0
    overlaps: int = 0
    hold_estimates: list[float] = field(default_factory=list)

    def hold_seconds(self) -> float | None:
        """How long one merge holds the shared resource: MERGE_SECONDS, else what GET /merge told."""
        if self.merge_seconds is not None:
            return self.merge_seconds
        # the median, so that one late answer cannot stretch the hold and turn a fair 202 into an "overlap"
        return statistics.median(self.hold_estimates) if self.hold_estimates else None

    def accept(self) -> int:
        """Stamp a 202 that just arrived; return its number, in order of arrival."""
        self.accepted_at.append(time.monotonic())
        return len(self.accepted_at) - 1

    def overlap_before(self, number: int) -> float | None:
        """Return how soon after the previous 202 this one came, if that is inside the hold; else None."""
        hold_seconds = self.hold_seconds()
        if number == 0 or hold_seconds is None:
            return None
        gap = self.accepted_at[number] - self.accepted_at[number - 1]
        return gap if gap < hold_seconds - TOLERANCE_SECONDS else None


ledger = MergeLedger(merge_seconds=MERGE_SECONDS)
user_numbers = itertools.count(1)
MERGE_HEADERS = merge_headers()


class MergeCrowdUser(FastHttpUser):
    """Presses merge again and again, and looks at the merge it started, as a client showing progress would."""

    host = DEFAULT_HOST
    # a crowd that keeps trying: the sooner someone tries after a hold ends, the sooner a double grant shows;
    # THINK_TIME=0 (the harness sets it) sends back to back, to measure the busy path's throughput
    wait_time = constant(0) if os.environ.get("THINK_TIME") == "0" else between(0.05, 0.25)

    def on_start(self) -> None:
        self.branch_name = f"load-test/user-{next(user_numbers)}"

    # --8<-- [start:task]
    @task
    def start_merge(self) -> None:
        accepted = {"message": "merge in progress", "branch_name": self.branch_name, "fencing_token": ANY}
        refused = {"detail": "Shared resource in use"}
        body = {"branch_name": self.branch_name}
        with self.client.post("/merge", json=body, headers=MERGE_HEADERS, catch_response=True) as response:
            # a 409 is the expected answer while another merge holds the shared resource
            if not judge(response, {202: accepted, 409: refused}):
                return
            if response.status_code == 409:
                ledger.refused += 1
                return
            number = ledger.accept()
        self.look_at_merge(ledger.accepted_at[number])
        self.report_overlap(number)

    def look_at_merge(self, accepted_at: float) -> None:
        """GET /merge right after the 202, and learn from it how long a hold lasts."""
        status_body = {"busy": ANY, "branch_name": ANY, "retry_after": ANY, "fencing_token": ANY}
        with self.client.get("/merge", catch_response=True) as response:
            if not judge(response, {200: status_body}):
                return
            status: dict[str, Any] = response.json()
        if status["busy"] and status["branch_name"] == self.branch_name:
            # retry_after is what was left of our merge when the server answered: add back the time since the 202
            ledger.hold_estimates.append(status["retry_after"] + time.monotonic() - accepted_at)

    def report_overlap(self, number: int) -> None:
        """Record a failure named "overlapping holds" if this 202 came inside the previous one's hold."""
        gap = ledger.overlap_before(number)
        if gap is None:
            return
        ledger.overlaps += 1
        logger.warning("two merges accepted %.2f s apart, inside one %.1f s hold", gap, ledger.hold_seconds())
        # a failed request event of its own: a row "CHECK overlapping holds" in the statistics, the failures
        # and the error report, next to the requests that looked fine one by one
        self.environment.events.request.fire(
            request_type="CHECK",
            name="overlapping holds",
            response_time=0,
            response_length=0,
            exception=OverlappingHoldsError("a merge was accepted while another merge held the shared resource"),
            context={},
        )
        # --8<-- [end:task]


@events.test_start.add_listener
def open_ledger(environment: Environment, **_kwargs: Any) -> None:
    """Start every test with an empty ledger: the web UI can run several tests in one process."""
    global ledger
    ledger = MergeLedger(merge_seconds=MERGE_SECONDS)


@events.test_stop.add_listener
def close_ledger(environment: Environment, **_kwargs: Any) -> None:
    """Print the one-line summary, and make the process exit with 1 if any two holds overlapped."""
    if isinstance(environment.runner, MasterRunner):
        return  # a master runs no users: its ledger is empty
    print(
        f"merge: {len(ledger.accepted_at)} accepted, {ledger.refused} refused (409), "
        f"{ledger.overlaps} overlapping holds",
        flush=True,
    )
    # the failures alone make Locust exit with 1 (--exit-code-on-error); this holds even if that is set to 0
    if ledger.overlaps:
        environment.process_exit_code = 1


if __name__ == "__main__":
    # run_single_user fires test_start but never test_stop, so no summary line here
    run_single_user(MergeCrowdUser)
