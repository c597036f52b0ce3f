"""Mixed: many readers ask GET /public/test while a few mergers start merges, to see what merges cost readers.

Users are split ten readers to one merger (with -u 5: four readers and one merger; with -u 55: fifty and
five). Compare the readers' response times with and without the mergers (the hello scenario): a merge
runs in the background, so readers should not notice it.

    locust -f benchmarks/locustfiles/mixed.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/mixed.py --host http://127.0.0.1:8000   # one merger, every request printed
"""

from __future__ import annotations

import itertools
from unittest.mock import ANY

from _common import DEFAULT_HOST, judge, merge_headers
from locust import FastHttpUser, between, constant_throughput, run_single_user, task

user_numbers = itertools.count(1)
MERGE_HEADERS = merge_headers()


class ReadingUser(FastHttpUser):
    """Reads the public message ten times a second."""

    weight = 10
    host = DEFAULT_HOST
    # paced, not back to back: each reader asks ten times a second however long answers take, so the load
    # stays the same while merges come and go, and a change in response time is the merges' doing
    wait_time = constant_throughput(10)

    @task
    def read_public_message(self) -> None:
        with self.client.get("/public/test", catch_response=True) as response:
            judge(response, {200: {"message": "anyone can see this"}})


class MergingUser(FastHttpUser):
    """Presses merge every second or so; most presses find the shared resource busy."""

    weight = 1
    host = DEFAULT_HOST
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.branch_name = f"load-test/merger-{next(user_numbers)}"

    @task
    def start_merge(self) -> None:
        accepted = {"message": "merge in progress", "branch_name": self.branch_name, "fencing_token": ANY}
        refused = {"detail": "Shared resource in use"}
        body = {"branch_name": self.branch_name}
        with self.client.post("/merge", json=body, headers=MERGE_HEADERS, catch_response=True) as response:
            # a 409 is the expected answer while another merge holds the shared resource
            judge(response, {202: accepted, 409: refused})


if __name__ == "__main__":
    run_single_user(MergingUser)
