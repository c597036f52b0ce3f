"""CPU burn: every user asks GET /lab/cpu, pure-Python work that holds the GIL.

Threads cannot share this work, on either stack: only more worker processes (and cores) serve more of it.
LAB_MS sets the CPU time each request burns (default 50 ms).

    locust -f benchmarks/locustfiles/cpu.py --host http://127.0.0.1:8000
    python benchmarks/locustfiles/cpu.py --host http://127.0.0.1:8000   # one user, every request printed
"""

from __future__ import annotations

from _common import DEFAULT_HOST, judge, lab_answer, lab_ms
from locust import FastHttpUser, constant, run_single_user, task

LAB_MS = lab_ms(default=50)


class CpuBurnUser(FastHttpUser):
    """Asks the server to burn LAB_MS of CPU, as fast as the server answers."""

    host = DEFAULT_HOST
    # closed loop: the harness measures throughput at a given concurrency, so each user sends its next
    # request as soon as the last one is answered, and the number of users is the number in flight
    wait_time = constant(0)

    @task
    def burn_cpu(self) -> None:
        # name= groups every ?ms= under one row of the statistics
        with self.client.get(f"/lab/cpu?ms={LAB_MS}", name="/lab/cpu", catch_response=True) as response:
            judge(response, {200: lab_answer(LAB_MS)})


if __name__ == "__main__":
    run_single_user(CpuBurnUser)
