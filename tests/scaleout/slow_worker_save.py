"""A locustfile for the distributed test: each forked worker waits two seconds before it writes its --json-file,
which makes certain the race a busy machine makes likely (a worker writing its emptied figures after the master)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import locust.stats
from locust import HttpUser, constant, task

MASTER = os.getpid()  # the locustfile is imported before Locust forks its workers
save_stats_json = locust.stats.save_stats_json


def save_late_in_workers(stats: locust.stats.RequestStats, path: str | Path) -> None:
    if os.getpid() != MASTER:
        time.sleep(2)  # the master writes about a second after its last worker quit
    save_stats_json(stats, path)


locust.stats.save_stats_json = save_late_in_workers


class Hello(HttpUser):
    wait_time = constant(0.01)

    @task
    def hello(self) -> None:
        self.client.get("/public/test")
