"""The pool decides: every user asks GET /lab/db, a 100 ms query on one connection of the server's pool.

Each worker process holds a pool of DB_POOL_SIZE connections (10): while every one is out, the next request
queues for one. So one worker serves at most 10 queries at once, however many users wait and whatever its model;
ten a second each, at 100 ms. DB_ROUTE=/lab/db-blocking asks FastAPI's blocking driver instead; LAB_MS sets the
query's wait (default 100 ms).

    locust -f benchmarks/locustfiles/pool.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/pool.py --host http://127.0.0.1:8000   # one user, every request printed
"""

from __future__ import annotations

import os
from unittest.mock import ANY

from _common import DEFAULT_HOST, judge, lab_answer, lab_ms
from locust import FastHttpUser, constant, run_single_user, task

LAB_MS = lab_ms(default=100)
DB_ROUTE = os.environ.get("DB_ROUTE", "/lab/db")
# the pool and the PostgreSQL backend that served the query, and when the pool handed over its connection
POOLED_ANSWER = {**lab_answer(LAB_MS), "pool_size": ANY, "got_connection_at": ANY, "backend_pid": ANY}


class PooledQueryUser(FastHttpUser):
    """Asks the server for a query of LAB_MS on a pooled connection, as fast as the server answers."""

    host = DEFAULT_HOST
    # closed loop: the harness measures throughput at a given concurrency, so each user sends its next
    # request as soon as the last one is answered, and the number of users is the number in flight
    wait_time = constant(0)

    @task
    def query(self) -> None:
        # name= groups every ?ms= under one row of the statistics
        with self.client.get(f"{DB_ROUTE}?ms={LAB_MS}", name=DB_ROUTE, catch_response=True) as response:
            judge(response, {200: POOLED_ANSWER})


if __name__ == "__main__":
    run_single_user(PooledQueryUser)
