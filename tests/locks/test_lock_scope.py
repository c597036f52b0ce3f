"""The scope of each backend, across real processes: who else sees the hold.

`sqlite:///` is shared by every process that opens the file, `redis://` by every process that reaches
the server, and `memory://` by nobody outside its own process. Each contender is a fresh 'spawn'
process that opens the lock from LOCK_URL, as a worker process of either server does.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest

from common.lock import Lease, open_merge_lock
from launcher import ROOT, free_port

PROCESSES = 8
ROUNDS = 5
LEASE_SECONDS = 60.0
LONG_MERGE = 60.0
BARRIER_SECONDS = 60.0


def contend(lock_url: str, index: int, rounds: int, barrier: Barrier, wins: Queue[tuple[int, list[bool]]]) -> None:
    """In a child process: each round, wait for every contender, try once, and let the winner release."""
    merge_lock = open_merge_lock(lock_url, LEASE_SECONDS)
    won: list[bool] = []
    for round_number in range(rounds):
        barrier.wait(BARRIER_SECONDS)
        answer = merge_lock.try_acquire(f"process-{index}/round-{round_number}", LONG_MERGE)
        won.append(isinstance(answer, Lease))
        # everyone has tried before the winner frees the resource for the next round
        barrier.wait(BARRIER_SECONDS)
        if isinstance(answer, Lease):
            merge_lock.finish(answer, "released")
    merge_lock.close()
    wins.put((index, won))


def winners_per_round(lock_url: str, processes: int, rounds: int) -> list[int]:
    """Race `processes` spawned processes on one LOCK_URL for `rounds` rounds; count the holds granted per round."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    wins: Queue[tuple[int, list[bool]]] = context.Queue()
    contenders = [
        context.Process(target=contend, args=(lock_url, index, rounds, barrier, wins)) for index in range(processes)
    ]
    for contender in contenders:
        contender.start()
    try:
        results = dict(wins.get(timeout=BARRIER_SECONDS * 2) for _ in contenders)
    finally:
        for contender in contenders:
            contender.join(BARRIER_SECONDS)
            if contender.is_alive():
                contender.kill()
                contender.join()
        wins.close()
    assert [contender.exitcode for contender in contenders] == [0] * processes
    return [sum(results[index][round_number] for index in range(processes)) for round_number in range(rounds)]


@pytest.mark.slow
@pytest.mark.parametrize("lock_url", ["sqlite", "redis"], indirect=True)
def test_one_of_many_processes_gets_the_hold(lock_url: str) -> None:
    assert winners_per_round(lock_url, PROCESSES, ROUNDS) == [1] * ROUNDS


def test_memory_lock_is_one_per_process() -> None:
    # the lesson, and the pitfall the docs reproduce: each process has its own memory://, so two
    # processes (two server workers) both get "the" hold at once
    assert winners_per_round("memory://", processes=2, rounds=1) == [2]


def test_the_memory_pitfall_script_shows_what_docs_lock_md_says() -> None:
    # docs/lock-backends.md runs docs_src/memory_pitfall.sh and shows its output: one SQLite file lets exactly one of
    # 20 concurrent merges in across two Gunicorn workers; memory:// lets each worker grant its own
    finished = subprocess.run(
        ["bash", "docs_src/memory_pitfall.sh"],
        cwd=ROOT,
        env={**os.environ, "PITFALL_BIND": f"127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    accepted = dict(re.findall(r"^(memory://|sqlite) accepted (\d+) of 20$", finished.stdout, re.MULTILINE))
    assert accepted["sqlite"] == "1"
    # two workers, two locks: one grant each, so 2 (1 only when one worker happened to take the whole burst)
    assert accepted["memory://"] in {"1", "2"}
