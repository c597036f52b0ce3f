"""Branch names: the contract accepts what git accepts as a branch name, and says why it refuses the rest."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from common.models import MergeRequest, branch_name_problem
from tests.support.tools import require_tool

# (name, valid under the contract); the id of an invalid name is the rule it breaks
BRANCH_NAMES = [
    pytest.param("feature/login", True, id="feature/login"),
    pytest.param("main", True, id="main"),
    pytest.param("release-1.0", True, id="release-1.0"),
    pytest.param("a/b/c", True, id="a/b/c"),
    pytest.param("v1.2.3", True, id="v1.2.3"),
    pytest.param("user@host", True, id="user@host"),
    pytest.param("", False, id="empty"),
    pytest.param("@", False, id="lone-at-sign"),
    pytest.param("-x", False, id="leading-dash"),
    pytest.param("a b", False, id="space"),
    pytest.param("a~b", False, id="tilde"),
    pytest.param("a^b", False, id="caret"),
    pytest.param("a:b", False, id="colon"),
    pytest.param("a?b", False, id="question-mark"),
    pytest.param("a*b", False, id="asterisk"),
    pytest.param("a[b", False, id="open-bracket"),
    pytest.param("a\\b", False, id="backslash"),
    pytest.param("a..b", False, id="double-dot"),
    pytest.param("a@{b", False, id="at-brace"),
    pytest.param("/a", False, id="leading-slash"),
    pytest.param("a/", False, id="trailing-slash"),
    pytest.param("a//b", False, id="double-slash"),
    pytest.param(".a", False, id="leading-dot"),
    pytest.param("a/.b", False, id="component-leading-dot"),
    pytest.param("a.", False, id="trailing-dot"),
    pytest.param("a.lock", False, id="dot-lock"),
    pytest.param("a/b.lock", False, id="component-dot-lock"),
    pytest.param("a\x01b", False, id="control-character"),
    pytest.param("a\x7fb", False, id="delete-character"),
]

# where `git check-ref-format --branch` and the contract disagree, the contract stands: name -> why
GIT_DISAGREES = {
    "@": (
        "git 2.39 accepts it with --branch (its rule against a lone '@' is about a whole ref, and refs/heads/@ is"
        " fine), but on git's command line '@' means HEAD, so a branch named '@' is a trap"
    ),
}


@pytest.mark.parametrize(("name", "valid"), BRANCH_NAMES)
def test_branch_name_problem(name: str, valid: bool) -> None:
    problem = branch_name_problem(name)
    if valid:
        assert problem is None
    else:
        assert problem


@pytest.mark.parametrize(("name", "valid"), BRANCH_NAMES)
def test_merge_request_accepts_exactly_the_valid_names(name: str, valid: bool) -> None:
    if valid:
        assert MergeRequest(branch_name=name).branch_name == name
    else:
        with pytest.raises(ValidationError):
            MergeRequest(branch_name=name)


@pytest.mark.parametrize(("name", "valid"), [case for case in BRANCH_NAMES if case.values[0] not in GIT_DISAGREES])
def test_git_agrees_with_the_contract(name: str, valid: bool, tmp_path: Path) -> None:
    git = require_tool("git", "apt-get install git")
    # outside any repository, so that git reads the name as it is written
    result = subprocess.run([git, "check-ref-format", "--branch", name], cwd=tmp_path, capture_output=True, timeout=30)
    assert (result.returncode == 0) is valid, result.stderr.decode(errors="replace")
