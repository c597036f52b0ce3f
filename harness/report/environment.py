"""The machine, the versions and the settings of a run, so that a reader can tell what the figures mean."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from launcher import ROOT
from launcher.catalog import CORES

LOCK_FILE = ROOT / "requirements.lock"
# the packages a reader of the figures asks about first; results.json records every one of the lock
KEY_PACKAGES = [
    "fastapi",
    "starlette",
    "pydantic",
    "uvicorn",
    "uvloop",
    "httptools",
    "flask",
    "werkzeug",
    "flask-openapi3",
    "gunicorn",
    "granian",
    "hypercorn",
    "waitress",
    "gevent",
    "uvicorn-worker",
    "daphne",
    "twisted",
    "a2wsgi",
    "asgiref",
    "django",
    "locust",
    "redis",
    "psycopg",
    "psycopg-pool",
]


def locked_versions(lock_file: Path = LOCK_FILE) -> dict[str, str]:
    """Every package the lock file pins, with its version (markers and hashes left out)."""
    pins = {}
    for line in lock_file.read_text().splitlines():
        line = line.split("#", 1)[0].strip().removesuffix("\\").strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            pins[requirement.name] = str(requirement.specifier).removeprefix("==")
    return pins


def installed_versions(names: list[str]) -> dict[str, str | None]:
    """The version of each package installed here, or None."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    """The processor's name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tool_version(command: list[str]) -> str | None:
    """The first line a tool prints about its version, or None if it is not installed."""
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (finished.stdout + finished.stderr).strip().splitlines()
    return lines[0] if lines else None


def gil_enabled() -> bool:
    """Whether this interpreter runs with the GIL (always, before Python 3.13's free-threaded build)."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def environment(settings: dict[str, Any]) -> dict[str, Any]:
    """Everything a reader needs to repeat a run: machine, Python, the locked and installed versions, settings."""
    locked = locked_versions()
    installed = installed_versions(sorted(locked))
    return {
        "cpu_model": cpu_model(),
        "cores": CORES,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "gil_enabled": gil_enabled(),
        "platform": platform.platform(),
        "packages": installed,
        # a package whose installed version is not the locked one makes the run not comparable: say so
        "not_as_locked": {name: installed[name] for name, pinned in locked.items() if installed[name] != pinned},
        "tools": {"wrk": tool_version(["wrk", "--version"]), "taskset": tool_version(["taskset", "--version"])},
        "settings": settings,
    }
