"""The blocking faces, and with them the Flask app, load no AnyIO: it is the FastAPI app's, and only the async
faces use it. Each import runs in a fresh interpreter, which names the chain of modules that pulled AnyIO in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from launcher import ROOT

# a finder that asks nothing of the import, only notes the modules being executed (the frames at module level)
# when `anyio` is first looked for; then imports the module named on the command line
WHO_IMPORTS_ANYIO = """
import importlib, json, sys

class Watch:
    chain = None

    def find_spec(self, name, path=None, target=None):
        if name == "anyio" and Watch.chain is None:
            frame, chain = sys._getframe(1), []
            while frame is not None:
                module = frame.f_globals.get("__name__", "")
                if frame.f_code.co_name == "<module>" and module != "__main__" and not module.startswith("importlib"):
                    chain.insert(0, module)
                frame = frame.f_back
            Watch.chain = chain
        return None

sys.meta_path.insert(0, Watch())
importlib.import_module(sys.argv[1])
print(json.dumps(Watch.chain))
"""


def anyio_importers(module: str, lock_url: str) -> list[str] | None:
    """The modules, outermost first, being imported when `module` first looks for anyio; None if it never does."""
    env = {**os.environ, "LOCK_URL": lock_url}
    done = subprocess.run(
        [sys.executable, "-c", WHO_IMPORTS_ANYIO, module], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    chain: list[str] | None = json.loads(done.stdout.splitlines()[-1])
    return chain


@pytest.mark.parametrize(
    "module",
    ["wsgi_app.main", "common.lock", "common.lock.memory", "common.lock.sqlite", "common.lock.redis", "common.merges"],
)
def test_the_blocking_side_loads_no_anyio(module: str, tmp_path: Path) -> None:
    assert anyio_importers(module, f"sqlite:///{tmp_path / 'lock.sqlite3'}") is None


def test_the_async_sqlite_face_is_what_loads_anyio(tmp_path: Path) -> None:
    # the watch itself works: the one module that needs AnyIO is named as its importer
    chain = anyio_importers("common.lock.sqlite_async", f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    assert chain == ["common.lock.sqlite_async"]
