"""`python -m benchmarks.inprocess`: CPU per request inside one process, our apps beside the bare frameworks.

    python -m benchmarks.inprocess                          # hello and the busy 409, ours and bare, both stacks
    python -m benchmarks.inprocess --compare routers        # a FastAPI route on the app, and in an included router
    python -m benchmarks.inprocess --compare dependencies   # the busy path with 0, 1 and 2 Depends
    python -m benchmarks.inprocess --compare hop            # SQLite's busy read on the loop, and in a thread
    python -m benchmarks.inprocess --profile busy           # where ours spends what bare does not, by area

No server and no network: each request is a call of the ASGI or WSGI app with a ready-made request, so the
figures are what the framework and our code cost, without what Uvicorn or Gunicorn add around them. That is
the place to find where our time goes (a profiler helps: python -m cProfile -m benchmarks.inprocess); the
servers' own throughput is `python -m benchmarks --suite lock --generator wrk`. The median of `--repeats`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from common.http import PUBLIC_MESSAGE, RESOURCE_BUSY
from common.models import MergeRequest
from common.settings import Settings
from harness.report.environment import environment

BODY = b'{"branch_name": "benchmark/in-process"}'
JSON = [(b"content-type", b"application/json")]
HOLDER = "benchmark/hold"


def asgi_request(method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[Any, Any, Any]:
    """A scope with a receive that delivers `body` at once, and a send that keeps nothing."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()), *headers],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    return scope, receive, send


async def asgi_status(app: Any, request: tuple[str, str, bytes, list[tuple[bytes, bytes]]]) -> int:
    """The status one call of an ASGI app answers."""
    scope, receive, _ = asgi_request(*request)
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


def wsgi_status(app: Any, request: tuple[str, str, bytes, list[tuple[bytes, bytes]]]) -> int:
    """The status one call of a WSGI app answers."""
    statuses: list[int] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(int(status.split()[0]))

    b"".join(app(wsgi_environ(*request), start_response))
    return statuses[0]


async def time_asgi(app: Any, request: tuple[str, str, bytes, list[tuple[bytes, bytes]]], calls: int) -> float:
    """Microseconds per call of an ASGI app, after 200 calls of warm-up."""
    for _ in range(200):
        await app(*asgi_request(*request))
    started = time.perf_counter()
    for _ in range(calls):
        await app(*asgi_request(*request))
    return (time.perf_counter() - started) / calls * 1e6


def wsgi_environ(method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The environ Gunicorn would build for the request."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in headers:
        environ["CONTENT_TYPE" if name == b"content-type" else f"HTTP_{name.decode().upper()}"] = value.decode()
    return environ


def time_wsgi(app: Any, request: tuple[str, str, bytes, list[tuple[bytes, bytes]]], calls: int) -> float:
    """Microseconds per call of a WSGI app, reading its whole answer, after 200 calls of warm-up."""

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        pass

    for _ in range(200):
        b"".join(app(wsgi_environ(*request), start_response))
    started = time.perf_counter()
    for _ in range(calls):
        b"".join(app(wsgi_environ(*request), start_response))
    return (time.perf_counter() - started) / calls * 1e6


HELLO = ("GET", "/public/test", b"", [])
# the token our apps are built with (Settings) and the bare ones read (MERGE_TOKENS, at import): the busy path
# is checked as it is on a server
TOKEN = "in-process-benchmark-token"
BUSY = ("POST", "/merge", BODY, [*JSON, (b"authorization", f"Bearer {TOKEN}".encode())])


Case = Callable[[], Awaitable[float]]


def interleave(cases: dict[str, Case], repeats: int) -> list[tuple[str, float]]:
    """Each case's median over `repeats` rounds, every case once per round: a slow minute falls on all of them."""
    figures: dict[str, list[float]] = {name: [] for name in cases}

    async def rounds() -> None:
        for _ in range(repeats):
            for name, case in cases.items():
                figures[name].append(await case())

    asyncio.run(rounds())
    return [(name, statistics.median(values)) for name, values in figures.items()]


def bare_apps() -> tuple[Any, Any]:
    """docs_src.baselines' bare FastAPI and Flask, which read MERGE_TOKENS once, as the module is imported."""
    os.environ["MERGE_TOKENS"] = TOKEN
    from docs_src import baselines

    if not baselines.checks_tokens():
        raise RuntimeError("docs_src.baselines was imported before MERGE_TOKENS was set: its 409 checks no token")
    return baselines.bare_fastapi, baselines.bare_flask


def ours_and_bare(calls: int, repeats: int) -> list[tuple[str, float]]:
    """Hello and the busy 409 through our apps (their lease taken first) and the bare ones."""
    from asgi_app.app import create_app as create_asgi_app

    bare_fastapi, bare_flask = bare_apps()
    from wsgi_app.app import create_app as create_wsgi_app

    # a lease that outlives the run: nothing renews the benchmark's hold, and a lapsed one would let a merge in
    settings = Settings(lock_lease_seconds=3600, merge_tokens=(TOKEN,))
    ours_asgi, ours_wsgi = create_asgi_app(settings), create_wsgi_app(settings)
    ours_wsgi.extensions["merge_lock"].try_acquire(HOLDER, 3600.0)
    asyncio.run(ours_asgi.state.merge_lock.try_acquire(HOLDER, 3600.0))
    answers = {"hello": (HELLO, 200), "busy 409": (BUSY, 409)}

    def check(when: str) -> None:
        """Every case answers what its label says: a lapsed hold would time 202s and their merges instead."""
        for label, (request, status) in answers.items():
            for name, app in [("ours", ours_asgi), ("bare", bare_fastapi)]:
                got = asyncio.run(asgi_status(app, request))
                assert got == status, f"{when}: FastAPI {name} {label} answered {got}, not {status}"
            for name, app in [("ours", ours_wsgi), ("bare", bare_flask)]:
                got = wsgi_status(app, request)
                assert got == status, f"{when}: Flask {name} {label} answered {got}, not {status}"

    check("before the run")
    cases: dict[str, Case] = {}
    for label, (request, _) in answers.items():
        for name, app in [("ours", ours_asgi), ("bare", bare_fastapi)]:
            cases[f"FastAPI, {name}, {label}"] = partial(time_asgi, app, request, calls)
        for name, app in [("ours", ours_wsgi), ("bare", bare_flask)]:
            cases[f"Flask, {name}, {label}"] = partial(asyncio.to_thread, time_wsgi, app, request, calls)
    figures = interleave(cases, repeats)
    check("after the run")
    return figures


async def _one(request: Request) -> int:
    return 1


async def _two(request: Request) -> int:
    return 2


def busy_apps() -> dict[str, FastAPI]:
    """The busy path with 0, 1 and 2 dependencies, nothing else."""
    zero, one, two = (FastAPI(openapi_url=None) for _ in range(3))

    @zero.post("/merge")
    async def none(body: MergeRequest, request: Request) -> None:
        raise HTTPException(409, detail=RESOURCE_BUSY)

    @one.post("/merge")
    async def single(body: MergeRequest, a: Annotated[int, Depends(_one)]) -> None:
        raise HTTPException(409, detail=RESOURCE_BUSY)

    @two.post("/merge")
    async def double(body: MergeRequest, a: Annotated[int, Depends(_one)], b: Annotated[int, Depends(_two)]) -> None:
        raise HTTPException(409, detail=RESOURCE_BUSY)

    return {"0 Depends": zero, "1 Depends": one, "2 Depends": two}


def hello_apps() -> dict[str, FastAPI]:
    """The hello route on the app itself, and the same route in an APIRouter that the app includes."""
    direct, included, router = FastAPI(openapi_url=None), FastAPI(openapi_url=None), APIRouter()

    @direct.get("/public/test")
    async def on_the_app() -> dict[str, str]:
        return {"message": PUBLIC_MESSAGE}

    @router.get("/public/test")
    async def in_a_router() -> dict[str, str]:
        return {"message": PUBLIC_MESSAGE}

    included.include_router(router)
    return {"route on the app": direct, "route in an included APIRouter": included}


def compare(apps: dict[str, FastAPI], request: Any, calls: int, repeats: int) -> list[tuple[str, float]]:
    """Each app's microseconds per call."""
    return interleave({name: partial(time_asgi, app, request, calls) for name, app in apps.items()}, repeats)


def hop_against_read(calls: int, repeats: int) -> list[tuple[str, float]]:
    """The busy path's SQLite read on the event loop, and the same read sent to a worker thread and back."""
    from common.lock.sqlite import SqliteLock, read_busy

    lock = SqliteLock(Path(tempfile.mkdtemp(prefix="inprocess-")) / "lock.sqlite3", lease_seconds=3600.0)
    lock.try_acquire(HOLDER, 3600.0)

    def read() -> object:
        with lock.using() as connection:
            return read_busy(connection, time.time())

    async def timed(step: Callable[[], Awaitable[object]]) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await step()
        return (time.perf_counter() - started) / calls * 1e6

    async def on_the_loop() -> object:
        return read()

    cases: dict[str, Case] = {
        "SQLite busy read, on the loop": partial(timed, on_the_loop),
        "the same read in a thread": partial(timed, partial(anyio.to_thread.run_sync, read)),
        "a thread hop around nothing": partial(timed, partial(anyio.to_thread.run_sync, int)),
    }
    return interleave(cases, repeats)


def area_of(filename: str, function: str) -> str:
    """The part of the stack a profiled function belongs to: one of our packages, a library, or Python itself."""
    if filename == "~":  # a built-in: named by the type or module it belongs to
        for mark, area in [("sqlite3", "sqlite3 (C)"), ("pydantic_core", "pydantic"), ("json", "json (C)")]:
            if mark in function:
                return area
        return "built-ins"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    relative = Path(filename).resolve()
    root = Path(__file__).resolve().parent.parent
    if relative.is_relative_to(root):
        parts = relative.relative_to(root).parts
        # our code: the package and module, so that the hardening, the lock and the JSON rules stand apart
        return "/".join(parts[:3] if len(parts) > 2 and parts[1] in {"hardening", "lock"} else parts[:2])
    return "python (stdlib)"


def profile(path: str, calls: int) -> list[str]:
    """cProfile's own time per request of ours and bare, summed by area (area_of), both stacks, one path."""
    import cProfile
    import pstats

    from asgi_app.app import create_app as create_asgi_app

    bare_fastapi, bare_flask = bare_apps()
    from wsgi_app.app import create_app as create_wsgi_app

    settings = Settings(lock_lease_seconds=3600, merge_tokens=(TOKEN,))
    ours_asgi, ours_wsgi = create_asgi_app(settings), create_wsgi_app(settings)
    ours_wsgi.extensions["merge_lock"].try_acquire(HOLDER, 3600.0)
    asyncio.run(ours_asgi.state.merge_lock.try_acquire(HOLDER, 3600.0))
    request = {"hello": HELLO, "busy": BUSY}[path]

    def by_area(run: Callable[[], object]) -> dict[str, float]:
        # CPU time of this thread, not the wall clock: on a shared machine another process's turn is not ours
        profiler = cProfile.Profile(time.thread_time_ns, 1e-9)
        profiler.runcall(run)
        areas: dict[str, float] = {}
        for (filename, _, function), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
            area = area_of(filename, function)
            areas[area] = areas.get(area, 0.0) + own / calls * 1e6
        return areas

    def asgi_calls(app: Any) -> None:
        async def run() -> None:
            for _ in range(calls):
                await app(*asgi_request(*request))

        asyncio.run(run())

    def wsgi_calls(app: Any) -> None:
        for _ in range(calls):
            b"".join(app(wsgi_environ(*request), lambda status, headers, exc_info=None: None))

    lines = []
    for stack, ours, bare, run in [
        ("FastAPI", ours_asgi, bare_fastapi, asgi_calls),
        ("Flask", ours_wsgi, bare_flask, wsgi_calls),
    ]:
        for app in (ours, bare):  # warm up: the first calls fill caches a request normally finds full
            run(app)
        measured = {name: by_area(partial(run, app)) for name, app in [("ours", ours), ("bare", bare)]}
        ours_areas, bare_areas = measured["ours"], measured["bare"]
        total_ours, total_bare = sum(ours_areas.values()), sum(bare_areas.values())
        lines.append(f"## {stack}, {path}: {total_ours:.1f} us profiled for ours, {total_bare:.1f} for bare")
        lines.append(f"{'area':<36} {'ours':>8} {'bare':>8} {'more':>8}")
        rows = sorted(set(ours_areas) | set(bare_areas), key=lambda a: bare_areas.get(a, 0.0) - ours_areas.get(a, 0.0))
        for area in rows:
            more = ours_areas.get(area, 0.0) - bare_areas.get(area, 0.0)
            if max(ours_areas.get(area, 0.0), bare_areas.get(area, 0.0)) >= 0.5:
                lines.append(
                    f"{area:<36} {ours_areas.get(area, 0.0):8.1f} {bare_areas.get(area, 0.0):8.1f} {more:+8.1f}"
                )
    return lines


COMPARISONS: dict[str, Callable[[int, int], Iterable[tuple[str, float]]]] = {
    "hop": hop_against_read,
    "ours": ours_and_bare,
    "routers": lambda calls, repeats: compare(hello_apps(), HELLO, calls, repeats),
    "dependencies": lambda calls, repeats: compare(busy_apps(), BUSY, calls, repeats),
}


def main(argv: list[str] | None = None) -> int:
    """Print microseconds per request for what was asked."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--compare", choices=sorted(COMPARISONS), default="ours")
    parser.add_argument("--calls", type=int, default=3000, help="calls per measurement (default 3000)")
    parser.add_argument("--repeats", type=int, default=9, help="rounds, every case once a round; medians (default 9)")
    parser.add_argument(
        "--profile", choices=["hello", "busy"], help="instead: cProfile's time per request of ours and bare, by area"
    )
    parser.add_argument("--out", type=Path, help="also write the lines to this file (a reference for the docs)")
    arguments = parser.parse_args(argv)
    if arguments.calls < 1 or arguments.repeats < 1:
        parser.error("--calls and --repeats must be ≥ 1")
    # our apps' lock in a scratch file, their merges long enough that every POST meets the busy path
    os.environ.setdefault("LOCK_URL", f"sqlite:///{tempfile.mkdtemp(prefix='inprocess-')}/lock.sqlite3")
    os.environ.setdefault("LOG_LEVEL", "warning")
    env = environment({"compare": arguments.compare, "calls": arguments.calls, "repeats": arguments.repeats})
    versions = ", ".join(f"{name} {env['packages'][name]}" for name in ("fastapi", "starlette", "flask", "pydantic"))
    asked = (
        f"--profile {arguments.profile} --calls {arguments.calls}"
        if arguments.profile
        else f"--compare {arguments.compare}"
    )
    lines = [
        f"# python -m benchmarks.inprocess {asked}: {env['cpu_model']}, {env['cores']} cores,",
        f"# Python {env['python']}, {versions};",
    ]
    if arguments.profile:
        lines.append(
            "# CPU microseconds per request in each function itself (cProfile), summed by area; a profiler makes"
        )
        lines.append("# every call slower, Python's calls most: read the areas against each other, not as real time")
        lines.extend(profile(arguments.profile, arguments.calls))
    else:
        rounds = f"median of {arguments.repeats} rounds of {arguments.calls} calls"
        lines.append(f"# microseconds per request: {rounds}, cases in turn")
        for name, microseconds in COMPARISONS[arguments.compare](arguments.calls, arguments.repeats):
            lines.append(f"{name:<36} {microseconds:8.1f}")
    print("\n".join(lines))
    if arguments.out:
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
