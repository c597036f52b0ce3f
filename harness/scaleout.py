"""Scale-out: instances of both apps behind nginx share one Redis, and a Locust merge crowd goes through nginx.

Three witnesses count the merges, and they must agree: Redis (keyspace notifications: every `set` of the lock's
key is one hold granted), nginx (its access log names the instance behind every answer and when it was sent) and
Locust (merge.py's own ledger). The run passes when no two holds overlapped, every hold got exactly one 202, no
request failed, and instances of both apps answered.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.measure import LoadOptions, cpu_split, start_load
from harness.parse import read_locust_stats
from harness.report.checks import Check
from harness.scenarios import Run
from launcher import RedisServer, config, run_nginx, run_redis, run_server, wait_for
from launcher.catalog import GUNICORN_GTHREAD, GUNICORN_SYNC_1, UVICORN, UVICORN_CORES

DEFAULT_INSTANCES = [UVICORN.id, UVICORN_CORES.id, GUNICORN_SYNC_1.id, GUNICORN_GTHREAD.id]
EXPECTED_STATUSES = {200, 202, 409}
# nginx logs times in whole milliseconds: two stamps may each be up to 1 ms off
ROUNDING_SECONDS = 0.002
MERGE_LINE = re.compile(r"^merge: (\d+) accepted, (\d+) refused \(409\), (\d+) overlapping holds$", re.MULTILINE)
DRAIN_CHANNEL = "scaleout:drain"


class HoldWatcher:
    """Redis's own account of the holds: a keyspace notification for every change to a key."""

    def __init__(self, redis_url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)
        # K: keyspace events; $: string commands (the SET NX PX that grants a hold); g: DEL; x: expiry
        self.client.config_set("notify-keyspace-events", "K$gx")
        self.events: Counter[str] = Counter()
        self._drained = threading.Event()
        self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self._pubsub.psubscribe(**{"__keyspace@0__:*": self._on_key_event})
        self._pubsub.subscribe(**{DRAIN_CHANNEL: self._on_drain})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    def _on_key_event(self, message: dict[str, Any]) -> None:
        self.events[message["data"].decode()] += 1

    def _on_drain(self, _message: dict[str, Any]) -> None:
        self._drained.set()

    def drain(self, timeout: float = 10.0) -> None:
        """Return once every notification sent so far has been counted: Redis delivers them in order."""
        self._drained.clear()
        self.client.publish(DRAIN_CHANNEL, "drain")
        if not self._drained.wait(timeout):
            raise RuntimeError("Redis's keyspace notifications did not arrive")

    def wait_until_free(self, timeout: float) -> None:
        """Wait until no hold is left (the last merge ended)."""
        wait_for(lambda: not self.client.dbsize(), timeout, "the last hold to end", interval=0.1)

    @property
    def holds_granted(self) -> int:
        """Every `set` of the lock's key is one hold granted: SET NX writes only when the key is absent."""
        return self.events["set"]

    def close(self) -> None:
        """Stop listening."""
        self._thread.stop()
        self._thread.join(5)
        self._pubsub.close()
        self.client.close()


@dataclass
class Instance:
    """One server behind the balancer, and what nginx saw it answer."""

    id: str
    app: str  # "asgi" or "wsgi"
    address: str
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        """Every request this instance answered."""
        return sum(self.statuses.values())

    def as_dict(self) -> dict[str, Any]:
        """The instance and its answers as JSON-ready data."""
        statuses = {str(status): count for status, count in sorted(self.statuses.items())}
        return {
            "id": self.id,
            "app": self.app,
            "address": self.address,
            "requests": self.requests,
            "statuses": statuses,
        }


@dataclass(frozen=True)
class Answer:
    """One line of nginx's access log."""

    sent_at: float  # $msec: when nginx sent the answer
    seconds: float  # $request_time: how long after the request came
    status: int
    method: str
    path: str
    upstream: str


def read_access_log(path: Path) -> list[Answer]:
    """The answers nginx logged, in launcher/nginx.py's ACCESS_LOG_FORMAT."""
    answers = []
    for line in path.read_text().splitlines():
        sent_at, seconds, status, method, path_, upstream = line.split(" ", 5)
        # "a, b" when nginx tried a second upstream after the first failed: the last one answered
        answers.append(Answer(float(sent_at), float(seconds), int(status), method, path_, upstream.split(", ")[-1]))
    return answers


def overlapping_holds(accepted: list[Answer], hold_seconds: float) -> list[float]:
    """Gaps between consecutive 202s that prove two holds overlapped, whoever answered them.

    A hold is granted somewhere between the moment its request reached nginx and the moment its 202 left,
    and it lasts `hold_seconds` (the TTL; the merge releases it no sooner). So if a 202 left less than
    `hold_seconds` after the previous request arrived, both holds were live at once. Slow answers widen the
    window and can hide an overlap; they can never invent one.
    """
    ordered = sorted(accepted, key=lambda answer: answer.sent_at)
    gaps = []
    for previous, current in itertools.pairwise(ordered):
        gap = current.sent_at - (previous.sent_at - previous.seconds)
        if gap < hold_seconds - ROUNDING_SECONDS:
            gaps.append(round(gap, 3))
    return gaps


def judge(figures: dict[str, Any], instances: list[Instance]) -> list[Check]:
    """The checks of a scale-out run."""
    answered = [instance for instance in instances if instance.requests]
    apps = sorted({instance.app for instance in answered})
    accepted = (figures["accepted_nginx"], figures["holds_granted_redis"], figures["accepted_locust"])
    unexpected = {
        status: count for status, count in figures["statuses"].items() if int(status) not in EXPECTED_STATUSES
    }
    return [
        Check(
            "no two holds overlapped",
            figures["overlaps_nginx"] == 0 and figures["overlaps_locust"] == 0,
            f"{figures['overlaps_nginx']} in nginx's log, {figures['overlaps_locust']} seen by Locust",
        ),
        Check(
            "every hold got exactly one 202",
            accepted[0] > 0 and len(set(accepted)) == 1,
            f"{accepted[1]} holds granted by Redis, {accepted[0]} 202s in nginx's log, {accepted[2]} seen by Locust",
        ),
        Check(
            "no unexpected failures",
            figures["failures"] == 0 and not unexpected,
            f"{figures['failures']} Locust failures, statuses other than 200/202/409: {unexpected or 'none'}",
        ),
        Check(
            "instances of both apps answered",
            len(answered) > 1 and apps == ["asgi", "wsgi"],
            f"{len(answered)} of {len(instances)} instances answered ({', '.join(apps) or 'none'})",
        ),
    ]


@dataclass(frozen=True)
class ScaleOutOptions:
    """Which instances, how many users for how long, how long a merge holds, and which lock they share."""

    instances: tuple[str, ...] = tuple(DEFAULT_INSTANCES)
    users: int = 50
    duration: int = 60
    merge_seconds: float = 2.0
    processes: int | None = None
    lock: str = "redis"  # "sqlite": a file per instance, as if each ran on a machine of its own


def lock_env(options: ScaleOutOptions, redis: RedisServer) -> dict[str, str]:
    """The instances' LOCK_URL: the one Redis, or nothing (the launcher gives each a SQLite file of its own)."""
    return {"LOCK_URL": redis.url} if options.lock == "redis" else {}


def run(options: ScaleOutOptions, folder: Path) -> dict[str, Any]:
    """Start Redis, the instances and nginx, send the merge crowd through nginx, and count."""
    hold_env = {"MERGE_SECONDS": str(options.merge_seconds)}
    load = Run("nginx", "merge", options.users)
    split = cpu_split(options.processes)
    with ExitStack() as stack:
        redis = stack.enter_context(run_redis())
        watcher = HoldWatcher(redis.url)
        stack.callback(watcher.close)
        servers = [
            stack.enter_context(run_server(config(id), {**hold_env, **lock_env(options, redis)}, folder=folder))
            for id in options.instances
        ]
        balancer = stack.enter_context(run_nginx([server.url for server in servers], access_log=True))
        watcher.drain()  # the subscription is live before the first merge
        print(
            f"{len(servers)} instances behind nginx at {balancer.url}, {options.users} users for {options.duration} s"
        )
        # merge.py judges overlaps by the hold the servers use; the crowd pauses between presses, as people do
        crowd_env = {"MERGE_SECONDS": str(options.merge_seconds), "THINK_TIME": ""}
        load_options = LoadOptions(options.duration, processes=options.processes)
        crowd = start_load(load, balancer.url, load_options, folder / load.key, split.generator, crowd_env)
        _, locust_exit_code = crowd.finish(options.duration + 120)
        watcher.wait_until_free(options.merge_seconds + 10)
        watcher.drain()
        holds_granted, hold_events = watcher.holds_granted, dict(watcher.events)
        instances = [
            Instance(id, config(id).interface, server.url.removeprefix("http://"))
            for id, server in zip(options.instances, servers, strict=True)
        ]
        answers = read_access_log(balancer.access_log())
    by_address = {instance.address: instance for instance in instances}
    for answer in answers:
        if answer.upstream in by_address:
            by_address[answer.upstream].statuses[answer.status] += 1
    accepted = [answer for answer in answers if answer.status == 202 and answer.method == "POST"]
    gaps = overlapping_holds(accepted, options.merge_seconds)
    locust_output = crowd.started.log()
    merge_lines = [tuple(int(number) for number in line) for line in MERGE_LINE.findall(locust_output)]
    stats = read_locust_stats(crowd.stats_path)
    figures = {
        "accepted_nginx": len(accepted),
        "accepted_locust": sum(line[0] for line in merge_lines),
        "holds_granted_redis": holds_granted,
        "hold_events_redis": hold_events,
        "refused_nginx": sum(1 for answer in answers if answer.status == 409),
        "overlaps_nginx": len(gaps),
        "overlap_gaps_nginx": gaps,
        "overlaps_locust": sum(line[2] for line in merge_lines),
        "locust_processes_reporting": len(merge_lines),
        "statuses": {str(status): count for status, count in sorted(Counter(a.status for a in answers).items())},
        "requests": stats.requests,
        "failures": stats.failures,
        "rps": round(stats.rps, 1),
        "p50_ms": stats.p50_ms,
        "p99_ms": stats.p99_ms,
        "locust_exit_code": locust_exit_code,
    }
    return {
        "instances": [instance.as_dict() for instance in instances],
        "figures": figures,
        "checks": [asdict(check) for check in judge(figures, instances)],
    }
