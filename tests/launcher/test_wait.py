"""wait_for: the one polling loop, with a deadline and a message that names what it waited for."""

from __future__ import annotations

import itertools

import pytest

from launcher import StillWaitingError, wait_for


def test_returns_the_first_truthy_answer() -> None:
    answers = iter([None, 0, "", "ready"])
    assert wait_for(lambda: next(answers), 5, "an answer", interval=0) == "ready"


def test_raises_naming_what_it_waited_for() -> None:
    calls = itertools.count()
    with pytest.raises(StillWaitingError, match=r"still waiting after 0.05 s for the moon"):
        wait_for(lambda: next(calls) < 0, 0.05, "the moon", interval=0.01)
    # it kept asking until the deadline, not once
    assert next(calls) > 1
