"""Scale-out: instances of both apps behind nginx share one Redis, and a Locust merge crowd goes through nginx.

Three witnesses count the merges, and they must agree: the ledger in Redis (every merge granted, with when it
started and ended, on Redis's clock), nginx (its access log names the instance behind every 202) and Locust
(merge.py's own count). The run passes when the ledger shows no two merges at once and every merge released,
each merge got exactly one 202, no request failed, and instances of both apps answered.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.lock import LEDGER_SIZE, MergeRecord, open_merge_lock
from common.merges import overlapping
from harness.measure import LoadOptions, cpu_split, start_load
from harness.parse import read_locust_stats
from harness.report.checks import Check
from harness.scenarios import Run
from launcher import RedisServer, config, run_nginx, run_redis, run_server, wait_for
from launcher.catalog import GUNICORN_GTHREAD, GUNICORN_SYNC_1, UVICORN, UVICORN_CORES

DEFAULT_INSTANCES = [UVICORN.id, UVICORN_CORES.id, GUNICORN_SYNC_1.id, GUNICORN_GTHREAD.id]
EXPECTED_STATUSES = {200, 202, 409}
MERGE_LINE = re.compile(r"^merge: (\d+) accepted, (\d+) refused \(409\), (\d+) overlapping holds$", re.MULTILINE)


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


def judge(figures: dict[str, Any], instances: list[Instance]) -> list[Check]:
    """The checks of a scale-out run."""
    answered = [instance for instance in instances if instance.requests]
    apps = sorted({instance.app for instance in answered})
    accepted = (figures["merges_ledger"], figures["accepted_nginx"], figures["accepted_locust"])
    unexpected = {
        status: count for status, count in figures["statuses"].items() if int(status) not in EXPECTED_STATUSES
    }
    outcomes = figures["outcomes_ledger"]
    ledgers = "the ledger" if figures["ledgers"] == 1 else f"the {figures['ledgers']} ledgers together"
    return [
        Check(
            "the ledger shows one merge at a time",
            figures["overlaps_ledger"] == [] and figures["overlaps_locust"] == 0,
            f"{len(figures['overlaps_ledger'])} overlaps in {ledgers}, {figures['overlaps_locust']} by Locust",
        ),
        Check("every merge released its lease", set(outcomes) == {"released"}, f"outcomes in the ledger: {outcomes}"),
        Check(
            "every merge got exactly one 202",
            accepted[0] > 0 and len(set(accepted)) == 1,
            f"{accepted[0]} merges in the ledger, {accepted[1]} 202s in nginx's log, {accepted[2]} seen by Locust",
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


def read_ledger(lock_url: str, merge_seconds: float) -> list[MergeRecord]:
    """Every merge of one ledger, once its last merge has ended."""
    lock = open_merge_lock(lock_url, lease_seconds=merge_seconds)
    try:
        wait_for(lambda: lock.status() is None, merge_seconds + 10, "the last merge to end", interval=0.1)
        return lock.history(LEDGER_SIZE)
    finally:
        lock.close()


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
        servers = [
            stack.enter_context(run_server(config(id), {**hold_env, **lock_env(options, redis)}, folder=folder))
            for id in options.instances
        ]
        balancer = stack.enter_context(run_nginx([server.url for server in servers], access_log=True))
        print(
            f"{len(servers)} instances behind nginx at {balancer.url}, {options.users} users for {options.duration} s"
        )
        # merge.py judges overlaps by the hold the servers use; the crowd pauses between presses, as people do
        crowd_env = {"MERGE_SECONDS": str(options.merge_seconds), "THINK_TIME": ""}
        load_options = LoadOptions(options.duration, processes=options.processes)
        crowd = start_load(load, balancer.url, load_options, folder / load.key, split.generator, crowd_env)
        _, locust_exit_code = crowd.finish(options.duration + 120)
        # with --lock sqlite each instance kept a ledger of its own, each right by itself: read them all
        lock_urls = {server.env["LOCK_URL"] for server in servers}
        ledger = [record for url in sorted(lock_urls) for record in read_ledger(url, options.merge_seconds)]
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
    locust_output = crowd.started.log()
    merge_lines = [tuple(int(number) for number in line) for line in MERGE_LINE.findall(locust_output)]
    stats = read_locust_stats(crowd.stats_path)
    figures = {
        "ledgers": len(lock_urls),
        "merges_ledger": len(ledger),
        "outcomes_ledger": dict(Counter(record.outcome for record in ledger)),
        "overlaps_ledger": overlapping(ledger),
        "accepted_nginx": len(accepted),
        "accepted_locust": sum(line[0] for line in merge_lines),
        "refused_nginx": sum(1 for answer in answers if answer.status == 409),
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
