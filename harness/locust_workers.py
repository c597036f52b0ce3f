"""Loaded beside a scenario's locustfile when Locust runs distributed (`--processes N`): the forked workers
inherit the master's options, --json-file included, and each writes its own statistics there as it quits,
emptied once they were sent to the master. On a busy machine a worker can quit after the master has written its
figures and overwrite them with zeros; a worker that writes nothing leaves the master's file alone."""

from __future__ import annotations

from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner


def keep_out_of_the_masters_json_file(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) and environment.parsed_options is not None:
        environment.parsed_options.json_file = None


events.init.add_listener(keep_out_of_the_masters_json_file)  # type: ignore[no-untyped-call]  # Locust: untyped
