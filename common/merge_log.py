"""A merge's log lines, typed: one dataclass per thing a running merge says, `message` to write its line, `parse`
to read it back.

common/merges.py writes every line through `message`; the pause run (harness/pause.py) and the fault tests read
the servers' logs through `events_in`, so the wording lives here once. After the app's prefix (common/logs.py),
a merge's first line is `merge of 'x' started (fencing token 7): 2.0 s, renewing its 5.0 s lease every 1.67 s`
(`MergeStarted`), and every other line `merge of 'x' (fencing token 7) ` and what happened:

| event | what happened |
| --- | --- |
| `LeaseRenewed` | `renewed its lease` |
| `LeaseLost` | `lost its lease 5.012 s after its last renewal: its lease had run out` |
| `MergeDone` | `done: released, writing its end` |
| `MergeEnded` | `ended: released` |
| `MergeFencedOff` | `ended: fenced off, a newer merge had started (5.312 s after its grant)` |
| `EndNotRecorded` | `ended, but its end was not recorded: Redis lock unavailable: ...` |
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal, cast, get_args

from common.lock import Outcome
from common.logs import read_app_line

Since = Literal["its grant", "its last renewal"]


@dataclass(frozen=True)
class Unrenewed:
    """How long a merge had gone without the store vouching for its lease, counted from its grant or from its last
    renewal that held (as sent): a lease runs out only after a whole lease of that, so a merge refused sooner met
    a broken lock, or a store it could not reach, which its line names. Written to the millisecond."""

    seconds: float
    since: Since

    def __str__(self) -> str:
        return f"{self.seconds:.3f} s after {self.since}"


@dataclass(frozen=True)
class MergeLine:
    """What every line of a merge names: its branch and its lease's fencing token. Each event adds the level it
    is logged at, and its `kind`: the short name the pause run's chart marks it by (a class attribute, but on
    MergeEnded, whose kind names the outcome)."""

    level: ClassVar[int]
    branch_name: str
    fencing_token: int


@dataclass(frozen=True)
class MergeStarted(MergeLine):
    """The merge began, holding a lease with this fencing token."""

    level = logging.INFO
    kind: ClassVar[str] = "started"
    merge_seconds: float  # written to the tenth of a second
    lease_seconds: float  # to the tenth
    renew_every: float  # to the hundredth


@dataclass(frozen=True)
class LeaseRenewed(MergeLine):
    """A renewal held: the store vouches for the lease from when it was sent."""

    level = logging.DEBUG
    kind: ClassVar[str] = "renewed"


@dataclass(frozen=True)
class LeaseLost(MergeLine):
    """A renewal failed, or its answer came too late to trust: the merge stops acting as the holder."""

    level = logging.WARNING
    kind: ClassVar[str] = "lost"
    unrenewed: Unrenewed
    problem: str  # "its lease had run out", "Redis lock unavailable: ...", ...


@dataclass(frozen=True)
class MergeDone(MergeLine):
    """The work is over and its end is about to be written (once written, another merge may start at once)."""

    level = logging.INFO
    kind: ClassVar[str] = "done"
    outcome: Outcome  # what the merge asks the ledger to record: released, or lease lost


@dataclass(frozen=True)
class MergeEnded(MergeLine):
    """The ledger recorded the end as the merge asked: released, or lease lost."""

    level = logging.INFO
    outcome: Outcome

    @property
    def kind(self) -> str:
        """The short name of the event: ended: released, ended: lease lost."""
        return f"ended: {self.outcome}"


@dataclass(frozen=True)
class MergeFencedOff(MergeLine):
    """The ledger refused the end: a newer merge had started. Says how long the merge had gone unrenewed."""

    level = logging.WARNING
    kind: ClassVar[str] = "ended: fenced off"
    outcome: ClassVar[Outcome] = "fenced off"
    unrenewed: Unrenewed


@dataclass(frozen=True)
class EndNotRecorded(MergeLine):
    """The store could not take the end (it was unreachable): the ledger still says the merge is running."""

    level = logging.WARNING
    kind: ClassVar[str] = "ended, not recorded"
    error: str


MergeEvent = MergeStarted | LeaseRenewed | LeaseLost | MergeDone | MergeEnded | MergeFencedOff | EndNotRecorded
# the merge's last word, however it ended: a merge logs one of these after the ledger has its end (or failed to)
END_EVENTS = (MergeEnded, MergeFencedOff, EndNotRecorded)


def message(event: MergeEvent) -> str:
    """The line a merge logs for `event` (after the app's prefix)."""
    merge = f"merge of {event.branch_name!r}"
    if isinstance(event, MergeStarted):
        return (
            f"{merge} started (fencing token {event.fencing_token}): {event.merge_seconds:.1f} s, "
            f"renewing its {event.lease_seconds:.1f} s lease every {event.renew_every:.2f} s"
        )
    merge += f" (fencing token {event.fencing_token})"
    if isinstance(event, LeaseRenewed):
        return f"{merge} renewed its lease"
    if isinstance(event, LeaseLost):
        return f"{merge} lost its lease {event.unrenewed}: {event.problem}"
    if isinstance(event, MergeDone):
        return f"{merge} done: {event.outcome}, writing its end"
    if isinstance(event, MergeEnded):
        return f"{merge} ended: {event.outcome}"
    if isinstance(event, MergeFencedOff):
        return f"{merge} ended: fenced off, a newer merge had started ({event.unrenewed})"
    return f"{merge} ended, but its end was not recorded: {event.error}"


# what `message` writes, read back: the branch as Python's repr() wrote it, in either quotes, then what happened
_MERGE = re.compile(
    r"merge of (?P<branch>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\") "
    r"(?:started \(fencing token (?P<started>\d+)\): (?P<start>.*)|\(fencing token (?P<token>\d+)\) (?P<what>.*))"
)
_NUMBER = r"\d+\.\d+"
_UNRENEWED = rf"(?P<seconds>{_NUMBER}) s after (?P<since>its grant|its last renewal)"
_OUTCOME = "|".join(re.escape(outcome) for outcome in get_args(Outcome))
_START = re.compile(rf"(?P<merge>{_NUMBER}) s, renewing its (?P<lease>{_NUMBER}) s lease every (?P<every>{_NUMBER}) s")
_WHAT: list[tuple[re.Pattern[str], Callable[[str, int, re.Match[str]], MergeEvent]]] = [
    (re.compile("renewed its lease"), lambda branch, token, _: LeaseRenewed(branch, token)),
    (
        re.compile(rf"lost its lease {_UNRENEWED}: (?P<problem>.*)"),
        lambda branch, token, found: LeaseLost(branch, token, _unrenewed(found), found["problem"]),
    ),
    (
        re.compile(rf"done: (?P<outcome>{_OUTCOME}), writing its end"),
        lambda branch, token, found: MergeDone(branch, token, cast(Outcome, found["outcome"])),
    ),
    (
        re.compile(rf"ended: fenced off, a newer merge had started \({_UNRENEWED}\)"),
        lambda branch, token, found: MergeFencedOff(branch, token, _unrenewed(found)),
    ),
    (
        re.compile(rf"ended: (?P<outcome>{_OUTCOME})"),
        lambda branch, token, found: MergeEnded(branch, token, cast(Outcome, found["outcome"])),
    ),
    (
        re.compile("ended, but its end was not recorded: (?P<error>.*)"),
        lambda branch, token, found: EndNotRecorded(branch, token, found["error"]),
    ),
]


def _unrenewed(found: re.Match[str]) -> Unrenewed:
    return Unrenewed(float(found["seconds"]), cast(Since, found["since"]))


def parse(line: str) -> MergeEvent | None:
    """The event a merge's log line says, whatever prefix a handler put before its message; None for any other line."""
    found = _MERGE.search(line)
    if found is None:
        return None
    branch_name = ast.literal_eval(found["branch"])
    if found["started"] is not None:
        start = _START.fullmatch(found["start"])
        if start is None:
            return None
        numbers = (float(start["merge"]), float(start["lease"]), float(start["every"]))
        return MergeStarted(branch_name, int(found["started"]), *numbers)
    for pattern, event in _WHAT:
        if what := pattern.fullmatch(found["what"]):
            return event(branch_name, int(found["token"]), what)
    return None


@dataclass(frozen=True)
class Logged:
    """A merge event as a server's log has it: when (seconds since local midnight), and which worker said it."""

    seconds_of_day: float
    app: str  # asgi_app, wsgi_app
    pid: int
    event: MergeEvent


def events_in(log: str) -> list[Logged]:
    """Every merge event of a server's log, in the order logged."""
    found = []
    for line in log.splitlines():
        if (app_line := read_app_line(line)) is not None and (event := parse(app_line.message)) is not None:
            found.append(Logged(app_line.seconds_of_day, app_line.app, app_line.pid, event))
    return found
