"""conda_env.yml installs exactly what pyproject.toml pins: the same packages, extras and versions.

pyproject.toml is the source of truth (`pip install -e .[dev]`); conda_env.yml repeats its pins for
conda users, so the two drift apart unless a test compares them.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.servers import ROOT

Pin = tuple[frozenset[str], str]  # (extras, specifier), e.g. ({"standard"}, "==0.54.0")
PROJECT_ITSELF = "-e ."


def read_pyproject() -> dict[str, Any]:
    """The parsed pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def read_conda_env() -> dict[str, Any]:
    """The parsed conda_env.yml."""
    return yaml.safe_load((ROOT / "conda_env.yml").read_text())  # type: ignore[no-any-return]


def pyproject_requirements() -> list[str]:
    """What `pip install -e .[dev]` installs: the dependencies and the dev extra."""
    project = read_pyproject()["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def conda_pip_entries() -> list[str]:
    """The `pip:` list of conda_env.yml, the project itself included."""
    pip_sections = [entry["pip"] for entry in read_conda_env()["dependencies"] if isinstance(entry, dict)]
    assert len(pip_sections) == 1, "conda_env.yml should have one pip: section"
    return list(pip_sections[0])


def conda_requirements() -> list[str]:
    """What conda_env.yml has pip install, without the project itself."""
    return [entry for entry in conda_pip_entries() if entry != PROJECT_ITSELF]


def pins(requirements: list[str]) -> dict[str, Pin]:
    """Map each PEP 503 normalized name to its extras (normalized the same way, PEP 685) and version specifier."""
    parsed = [Requirement(line) for line in requirements]
    return {
        canonicalize_name(req.name): (frozenset(map(canonicalize_name, req.extras)), str(req.specifier))
        for req in parsed
    }


PYPROJECT_PINS = pins(pyproject_requirements())
SOURCES = {"pyproject": pyproject_requirements, "conda_env": conda_requirements}


def conda_pins() -> dict[str, Pin]:
    """The pins of conda_env.yml's pip list."""
    return pins(conda_requirements())


@pytest.mark.parametrize("source", list(SOURCES), ids=list(SOURCES))
def test_no_package_is_listed_twice(source: str) -> None:
    names = [canonicalize_name(Requirement(line).name) for line in SOURCES[source]()]

    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_conda_env_names_the_same_packages() -> None:
    assert sorted(conda_pins()) == sorted(PYPROJECT_PINS)


@pytest.mark.parametrize("name", sorted(PYPROJECT_PINS), ids=sorted(PYPROJECT_PINS))
def test_conda_env_pins_like_pyproject(name: str) -> None:
    assert conda_pins().get(name) == PYPROJECT_PINS[name]


def test_every_pin_is_exact() -> None:
    # the benchmarks compare servers, so every reader must run the very same versions
    loose = {
        name: specifier
        for name, (_extras, specifier) in PYPROJECT_PINS.items()
        if [clause.operator for clause in SpecifierSet(specifier)] != ["=="]
    }

    assert loose == {}


def test_conda_env_installs_the_project_itself() -> None:
    assert conda_pip_entries().count(PROJECT_ITSELF) == 1


def test_conda_python_satisfies_requires_python() -> None:
    conda_packages = [entry for entry in read_conda_env()["dependencies"] if isinstance(entry, str)]
    python_pins = [entry.removeprefix("python=") for entry in conda_packages if entry.startswith("python=")]
    requires_python = SpecifierSet(read_pyproject()["project"]["requires-python"])

    assert len(python_pins) == 1, "conda_env.yml should pin python once"
    assert Version(python_pins[0]) in requires_python
