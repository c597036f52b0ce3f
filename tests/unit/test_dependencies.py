"""Dependencies point one way, down pyproject.toml's [tool.importlinter] layers.

`lint-imports` (make lint) checks every import statement against those layers and finds any import cycle; what it
cannot see are the import strings a server is given (`docs_src.raw_asgi:app` in launcher/catalog.py), so these
tests hold those to the same order, and check that every package a server may be given is installed with the project.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from launcher import ROOT, ServerConfig
from launcher.catalog import CONFIGS

# `package.module:attribute` as a server takes it, or a dotted module path alone (Django's settings name its own)
IMPORT_STRING = re.compile(r"(?P<package>\w+)(?:\.\w+)*(?::\w*)?")


def read_pyproject() -> dict[str, Any]:
    """The parsed pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def layer_of_each_package() -> dict[str, int]:
    """Each root package's layer, 0 at the top: a package may depend on its own layer's and those below it."""
    [contract] = [c for c in read_pyproject()["tool"]["importlinter"]["contracts"] if c["id"] == "layers"]
    return {
        package.strip(): depth for depth, layer in enumerate(contract["layers"]) for package in re.split(r"[|:]", layer)
    }


def import_strings(source: str, packages: set[str]) -> list[tuple[int, str]]:
    """The line and text of every string constant in `source` that names a module of one of `packages`.

    An f-string's leading constant counts: `f"docs_src.baselines:{app}"` names docs_src.baselines.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = IMPORT_STRING.fullmatch(node.value)
            named = match and ("." in node.value or ":" in node.value) and match["package"] in packages
            if named:
                found.append((node.lineno, node.value))
    return found


def backwards_import_strings(root: Path, layers: dict[str, int]) -> list[str]:
    """`path:line: string` for every import string under `root` that names a package in a layer above its own."""
    backwards = []
    for package, depth in layers.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, string in import_strings(path.read_text(), set(layers)):
                if layers[string.partition(".")[0].partition(":")[0]] < depth:
                    backwards.append(f"{path.relative_to(root)}:{line}: {string}")
    return backwards


def test_the_layers_name_every_package_of_the_project() -> None:
    packaged = {
        name.removesuffix("*") for name in read_pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    roots = set(read_pyproject()["tool"]["importlinter"]["root_packages"])
    assert set(layer_of_each_package()) == roots
    # every folder of Python at the top of the repository (docs_hooks/ is a namespace package: no __init__.py)
    assert {module.parent.name for module in ROOT.glob("*/*.py")} == roots
    # tests and the docs build's hooks run from a checkout only; everything else is installed
    assert roots - packaged == {"tests", "docs_hooks"}


def test_no_import_string_points_up_the_layers() -> None:
    assert backwards_import_strings(ROOT, layer_of_each_package()) == []


def test_a_backwards_import_string_is_found(tmp_path: Path) -> None:
    # the launcher's catalog once named the bare baselines in benchmarks/, a layer above it
    layers = layer_of_each_package()
    for package in layers:
        (tmp_path / package).mkdir()
    (tmp_path / "launcher" / "catalog.py").write_text(
        'RAW = "benchmarks.baselines:raw_asgi"\n\n\ndef baseline(app: str) -> str:\n    return f"harness.x:{app}"\n'
    )
    (tmp_path / "docs_src" / "settings.py").write_text('ROOT_URLCONF = "docs_src.django_project.urls"\n')
    assert backwards_import_strings(tmp_path, layers) == [
        "launcher/catalog.py:1: benchmarks.baselines:raw_asgi",
        "launcher/catalog.py:5: harness.x:",
    ]


@pytest.mark.parametrize("row", CONFIGS.values(), ids=lambda row: row.id)
def test_every_app_a_server_is_given_is_installed_with_the_project(row: ServerConfig) -> None:
    module = row.app.partition(":")[0]
    packaged = {
        name.removesuffix("*") for name in read_pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert module.partition(".")[0] in packaged
    assert importlib.util.find_spec(module) is not None
