"""`python -m benchmarks.scaleout`: instances of both apps behind nginx share one Redis; the merge crowd goes through.

    python -m benchmarks.scaleout                        # 4 instances, 50 users for 60 s (make scaleout)
    python -m benchmarks.scaleout --duration 20 --users 20
    python -m benchmarks.scaleout --instances uvicorn,uvicorn,gunicorn-sync-w1,gunicorn-sync-w1
    python -m benchmarks.scaleout --processes 2          # Locust distributed: a master and 2 workers
    python -m benchmarks.scaleout --lock sqlite          # no shared lock: one SQLite file per instance

Three witnesses count the merges, and they must agree: Redis (keyspace notifications: every `set` of the lock's
key is one hold granted), nginx (its access log names the instance behind every answer and when it was sent) and
Locust (merge.py's own ledger). The run passes when no two holds overlapped, every hold got exactly one 202, no
request failed, and instances of both apps answered. Everything lands in benchmarks/results/scaleout-<timestamp>/.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.configs import SERVERS, UVICORN_N, Run
from benchmarks.harness import ROOT, StartedServer, locust_command, pinning, read_locust_stats
from benchmarks.launch import run_nginx, run_redis

DEFAULT_INSTANCES = ["uvicorn", UVICORN_N, "gunicorn-sync-w1", "gunicorn-gthread"]
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
        self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.psubscribe(**{"__keyspace@0__:*": self._on_key_event})
        self._pubsub.subscribe(**{DRAIN_CHANNEL: self._on_drain})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    def _on_key_event(self, message: dict[str, Any]) -> None:
        self.events[message["data"].decode()] += 1

    def _on_drain(self, _message: dict[str, Any]) -> None:
        self._drained.set()

    def drain(self, deadline_seconds: float = 10.0) -> None:
        """Return once every notification sent so far has been counted: Redis delivers them in order."""
        self._drained.clear()
        self.client.publish(DRAIN_CHANNEL, "drain")
        if not self._drained.wait(deadline_seconds):
            raise RuntimeError("Redis's keyspace notifications did not arrive")

    def wait_until_free(self, deadline_seconds: float) -> None:
        """Poll until no hold is left (the last merge ended), or the deadline passes."""
        deadline = time.monotonic() + deadline_seconds
        while self.client.dbsize() and time.monotonic() < deadline:
            time.sleep(0.1)

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
    seconds: float  # $request_time: how long after the request arrived
    status: int
    method: str
    path: str
    upstream: str


def read_access_log(path: Path) -> list[Answer]:
    """The answers nginx logged, in the format of benchmarks/launch.py's nginx_config()."""
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


@dataclass(frozen=True)
class Check:
    """One thing the run must show, and whether it did."""

    name: str
    passed: bool
    detail: str


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


def _version(command: list[str]) -> str:
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "unknown"
    return (finished.stdout + finished.stderr).strip().splitlines()[0]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__.splitlines()[0])
    default_instances = ",".join(DEFAULT_INSTANCES)
    parser.add_argument("--instances", default=default_instances, help=f"server ids (default {default_instances})")
    parser.add_argument("--users", type=int, default=50, help="Locust users pressing merge (default 50)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--merge-seconds", type=float, default=2.0, help="how long each merge holds (default 2)")
    parser.add_argument("--processes", type=int, metavar="N", help="Locust distributed: a master and N workers")
    parser.add_argument("--lock", choices=["redis", "sqlite"], default="redis",
                        help="redis: every instance on the one Redis (default); sqlite: a file per instance, "
                             "as if each ran on a machine of its own (the checks then fail)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/scaleout-<timestamp>)")
    arguments = parser.parse_args(argv)
    unknown = [id for id in arguments.instances.split(",") if id not in SERVERS or SERVERS[id].baseline]
    if unknown:
        choices = ", ".join(id for id, server in SERVERS.items() if not server.baseline)
        parser.error(f"unknown --instances {', '.join(unknown)}; choose from {choices}")
    if arguments.users < 1 or not 1 <= arguments.duration <= 3600 or arguments.merge_seconds <= 0:
        parser.error("--users must be ≥ 1, --duration between 1 and 3600 seconds, --merge-seconds > 0")
    if arguments.processes is not None and arguments.processes < 1:
        parser.error("--processes must be ≥ 1")
    return arguments


def run(arguments: argparse.Namespace, folder: Path, nginx: str, redis_server: str) -> dict[str, Any]:
    """Start Redis, the instances and nginx, send the merge crowd through nginx, and count."""
    ids = arguments.instances.split(",")
    hold_env = {"MERGE_SECONDS": str(arguments.merge_seconds)}
    load = Run("nginx", "merge", arguments.users)
    with ExitStack() as stack:
        redis_url = stack.enter_context(run_redis(redis_server))
        watcher = HoldWatcher(redis_url)
        stack.callback(watcher.close)
        servers = []
        for number, id in enumerate(ids, 1):
            log = folder / f"instance{number}-{id}.server.log"
            # without LOCK_URL, StartedServer gives each instance a SQLite file of its own
            lock_env = {"LOCK_URL": redis_url} if arguments.lock == "redis" else {}
            server = StartedServer(Run(id, "merge", arguments.users), log, arguments.processes,
                                   env={**hold_env, **lock_env})  # fmt: skip
            stack.callback(server.stop)
            servers.append(server)
        for server in servers:
            server.wait_until_ready()
        access_log = folder / "nginx-access.log"
        access_log.unlink(missing_ok=True)  # nginx appends: an earlier run's lines must not count
        balancer = stack.enter_context(run_nginx(nginx, [server.url for server in servers], access_log=access_log))
        watcher.drain()  # the subscription is live before the first merge
        command, env = locust_command(load, balancer, arguments.duration, folder, arguments.processes)
        # merge.py judges overlaps by the hold the servers use; the crowd pauses between presses, as people do
        env |= hold_env
        env.pop("THINK_TIME", None)
        print(
            f"{len(servers)} instances behind nginx at {balancer}, {arguments.users} users for {arguments.duration} s"
        )
        _, generator_pin = pinning(arguments.processes)
        with (folder / "locust.log").open("w") as output:
            locust = subprocess.run(generator_pin + command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                    timeout=arguments.duration + 120, cwd=ROOT)  # fmt: skip
        watcher.wait_until_free(arguments.merge_seconds + 10)
        watcher.drain()
        holds_granted, hold_events = watcher.holds_granted, dict(watcher.events)
        instances = [Instance(id, SERVERS[id].interface, server.url.removeprefix("http://"))
                     for id, server in zip(ids, servers, strict=True)]  # fmt: skip
    answers = read_access_log(access_log)
    by_address = {instance.address: instance for instance in instances}
    for answer in answers:
        if answer.upstream in by_address:
            by_address[answer.upstream].statuses[answer.status] += 1
    accepted = [answer for answer in answers if answer.status == 202 and answer.method == "POST"]
    gaps = overlapping_holds(accepted, arguments.merge_seconds)
    locust_output = (folder / "locust.log").read_text()
    merge_lines = [tuple(int(number) for number in line) for line in MERGE_LINE.findall(locust_output)]
    requests, failures, rps, p50, _, p99 = read_locust_stats(folder / f"{load.key}.json")
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
        "requests": requests,
        "failures": failures,
        "rps": round(rps, 1),
        "p50_ms": p50,
        "p99_ms": p99,
        "locust_exit_code": locust.returncode,
    }
    checks = judge(figures, instances)
    return {
        "instances": [instance.as_dict() for instance in instances],
        "figures": figures,
        "checks": [asdict(check) for check in checks],
    }


def print_summary(result: dict[str, Any]) -> None:
    """The terminal table: one line per instance, the counts of the three witnesses, then the checks."""
    figures = result["figures"]
    print(f"\n{'instance':<20} {'app':<5} {'address':<17} {'requests':>9} {'202':>5} {'409':>7} {'other':>6}")
    for instance in result["instances"]:
        statuses = Counter({int(status): count for status, count in instance["statuses"].items()})
        other = instance["requests"] - statuses[202] - statuses[409] - statuses[200]
        print(f"{instance['id']:<20} {instance['app']:<5} {instance['address']:<17} {instance['requests']:>9,} "
              f"{statuses[202]:>5} {statuses[409]:>7,} {other:>6}")  # fmt: skip
    print(f"\naccepted merges: {figures['holds_granted_redis']} holds granted by Redis, "
          f"{figures['accepted_nginx']} 202s in nginx's log, {figures['accepted_locust']} seen by Locust")  # fmt: skip
    print(f"overlapping holds: {figures['overlaps_nginx']} (nginx's log), {figures['overlaps_locust']} (Locust)")
    print(f"through nginx: {figures['requests']:,} requests, {figures['rps']:,.1f} requests/s, "
          f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, {figures['failures']} failures")  # fmt: skip
    print("\nchecks:")
    for check in result["checks"]:
        print(f"  [{'pass' if check['passed'] else 'FAIL'}] {check['name']}: {check['detail']}")


def main(argv: list[str] | None = None) -> int:
    """Run the scale-out scenario once; exit 1 if a check failed, 2 if a tool is missing."""
    arguments = _parse(argv)
    # Debian installs nginx in /usr/sbin, which is not on every user's PATH
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin") or ""
    redis_server = shutil.which("redis-server") or ""
    for name, path in [("nginx", nginx), ("redis-server", redis_server)]:
        if not path:
            print(f"scaleout: {name} is not installed (or not on PATH): apt-get install {name}", file=sys.stderr)
            return 2
    folder = arguments.out or ROOT / "benchmarks" / "results" / time.strftime("scaleout-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "instances": arguments.instances, "users": arguments.users, "duration_s": arguments.duration,
        "merge_seconds": arguments.merge_seconds, "locust_processes": arguments.processes or 1, "lock": arguments.lock,
        "nginx": _version([nginx, "-v"]), "redis": _version([redis_server, "--version"]),
    }  # fmt: skip
    try:
        result = {"environment": report.environment(settings), **run(arguments, folder, nginx, redis_server)}
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print(f"scaleout: {str(error).splitlines()[0]} (logs in {folder})", file=sys.stderr)
        return 1
    (folder / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)
    print(f"\nresults: {folder / 'results.json'}")
    return 0 if all(check["passed"] for check in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
