"""The contract: request, response and error bodies that both apps speak, defined once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

BRANCH_NAME_MAX_LENGTH = 255

# characters git refuses anywhere in a ref name (see `git help check-ref-format`)
_FORBIDDEN_CHARACTERS = set(" ~^:?*[\\\x7f")

# the rules of branch_name_problem as one regular expression (ECMA-262, as OpenAPI uses), so that the
# OpenAPI documents describe the names the apps accept; tests/fuzz checks that the two always agree
BRANCH_NAME_PATTERN = (
    r"^(?!@$)"  # not the single character @
    r"(?![-/.])"  # not starting with -, / or .
    # nowhere .., @{, // or a component starting with . or ending in .lock; not ending in / or .
    r"(?![\s\S]*(?:\.\.|@\{|//|/\.|\.lock/|\.lock$|/$|\.$))"
    r"[^\x00-\x20~^:?*\[\\\x7f]+$"  # no control character, space, DEL or any of ~ ^ : ? * [ \
)


def branch_name_problem(name: str) -> str | None:
    """Return why `git check-ref-format --branch` would refuse this name, or None if it is valid."""
    if not name:
        return "must not be empty"
    if name == "@":
        return "must not be the single character '@'"
    if name.startswith("-"):
        return "must not start with '-'"
    if any(ord(char) < 0x20 or char in _FORBIDDEN_CHARACTERS for char in name):
        return "must not contain spaces, control characters or any of ~ ^ : ? * [ \\"
    if ".." in name:
        return "must not contain '..'"
    if "@{" in name:
        return "must not contain '@{'"
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "must not start or end with '/' or contain '//'"
    if name.endswith("."):
        return "must not end with '.'"
    for component in name.split("/"):
        if component.startswith("."):
            return "no '/'-separated component may start with '.'"
        if component.endswith(".lock"):
            return "no '/'-separated component may end with '.lock'"
    return None


def _check_branch_name(name: str) -> str:
    problem = branch_name_problem(name)
    if problem is not None:
        raise PydanticCustomError(
            "git_branch_name",
            "Value is not a valid git branch name: it {problem}",
            {"problem": problem},
        )
    return name


BranchName = Annotated[
    str,
    # the pattern is documentation only: _check_branch_name enforces it, with a message naming the rule broken
    Field(
        min_length=1,
        max_length=BRANCH_NAME_MAX_LENGTH,
        examples=["feature/login"],
        json_schema_extra={"pattern": BRANCH_NAME_PATTERN},
    ),
    AfterValidator(_check_branch_name),
]


class MergeRequest(BaseModel):
    """Body of `POST /merge`: the branch to merge into the shared resource."""

    model_config = ConfigDict(extra="forbid", strict=True)

    branch_name: BranchName


class Message(BaseModel):
    """Body of `GET /public/test`."""

    message: str = Field(examples=["anyone can see this"])


FENCING_TOKEN = "Strictly greater for every merge granted: the ledger refuses a write older than the newest."


class MergeAccepted(BaseModel):
    """Body of the 202 answer to `POST /merge`: the merge now holds the shared resource."""

    message: str = Field(examples=["merge in progress"])
    branch_name: str = Field(examples=["feature/login"])
    fencing_token: int = Field(description=FENCING_TOKEN, examples=[42])


class MergeStatus(BaseModel):
    """Body of `GET /merge`: who holds the shared resource, with which fencing token, for how much longer."""

    busy: bool
    branch_name: str | None = Field(examples=["feature/login"])
    retry_after: float | None = Field(description="Seconds until the merge should be done.", examples=[7.4])
    fencing_token: int | None = Field(description=FENCING_TOKEN, examples=[42])


class MergeSummary(BaseModel):
    """One merge of the ledger, stamped by the lock's store: when it started, when its end was accepted."""

    fencing_token: int = Field(examples=[42])
    branch_name: str = Field(examples=["feature/login"])
    started_at: datetime
    ended_at: datetime | None = Field(description="None while it runs, or when its end was never accepted.")
    outcome: Literal["running", "released", "lease lost", "fenced off"] = Field(
        description="released: it ended and let go; lease lost: its lease ran out first (a crash, a pause, a store "
        "that went away); fenced off: its late end was refused, a newer merge having started."
    )


class MergeHistory(BaseModel):
    """Body of `GET /merge/history`: the most recent merges, newest first."""

    merges: list[MergeSummary]


class HTTPError(BaseModel):
    """Body of every error that is not a validation error."""

    detail: str = Field(examples=["Shared resource in use"])


class ValidationIssue(BaseModel):
    """One problem with the request, in FastAPI's (that is, pydantic's) shape."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrorBody(BaseModel):
    """Body of a 422: every problem found, each with a machine-readable `type` and `loc`."""

    detail: list[ValidationIssue]


LAB_MAX_MS = 2000
LAB_STREAM_MAX_EVENTS = 1000


class LabQuery(BaseModel):
    """Query of the /lab routes: how many milliseconds to wait or to burn."""

    ms: int = Field(default=100, ge=0, le=LAB_MAX_MS, description="Milliseconds, 0 to 2000.")


class LabResult(BaseModel):
    """Body of the /lab routes: what the route spent, in which process and thread, from when to when."""

    waited_ms: int
    pid: int
    thread: str = Field(description="The thread that ran the route: the event loop's, a pool's, a worker's.")
    thread_id: int = Field(description="Its id (threading.get_ident()): a pool's threads may share one name.")
    started_at: float = Field(description="When the route began, in seconds since the epoch (the server's clock).")
    ended_at: float = Field(description="When it was done, in the same clock: the harness draws timelines from these.")


class LabDbResult(LabResult):
    """Body of the /lab/db routes: what LabResult says, and which pooled connection ran the query, from when."""

    pool_size: int = Field(description="DB_POOL_SIZE: the connections in this worker process's pool.")
    got_connection_at: float = Field(
        description="When the pool handed over a connection: from started_at to this, the request queued for one."
    )
    backend_pid: int = Field(description="The PostgreSQL process that ran the query: one per pooled connection.")


class LabStreamQuery(BaseModel):
    """Query of /lab/stream: how many events, and how many milliseconds apart."""

    n: int = Field(default=10, ge=1, le=LAB_STREAM_MAX_EVENTS, description="Events, 1 to 1000.")
    ms: int = Field(default=100, ge=0, le=LAB_MAX_MS, description="Milliseconds between events, 0 to 2000.")


class LabStreamTick(BaseModel):
    """Data of each /lab/stream event: its number, of how many, and the process that sent it."""

    n: int
    of: int
    pid: int


class HistoryQuery(BaseModel):
    """Query of `GET /merge/history`: how many merges, newest first."""

    limit: int = Field(default=10, ge=1, le=100, description="How many merges, 1 to 100.")


# the error answers each route documents, with the model of each body; both apps list the same ones
START_MERGE_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    400: (
        HTTPError,
        "The body did not arrive whole (short of its Content-Length, or its chunks broken), "
        "or the Authorization header is malformed",
    ),
    401: (HTTPError, "No bearer token, or not one of MERGE_TOKENS: WWW-Authenticate says which"),
    409: (HTTPError, "The shared resource is held: retry after the Retry-After header's seconds"),
    413: (HTTPError, "The body is larger than MAX_BODY_BYTES"),
    415: (HTTPError, "The body is not sent as application/json"),
    422: (ValidationErrorBody, "The body is not a JSON object with one valid branch_name"),
    503: (HTTPError, "The lock backend cannot be reached"),
}
MERGE_HISTORY_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    422: (ValidationErrorBody, "limit is not an integer from 1 to 100"),
    503: (HTTPError, "The lock backend cannot be reached"),
}
MERGE_EVENTS_DESCRIPTION = (
    "Server-Sent Events: first `status` (data: MergeStatus), then `merge-started` and `merge-ended` (data: "
    "MergeSummary, id: the fencing token and `-started` or `-ended`), and a `: ping` comment when idle"
)
MERGE_STATUS_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    503: (HTTPError, "The lock backend cannot be reached"),
}
LAB_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    422: (ValidationErrorBody, "ms is not an integer from 0 to 2000"),
}
LAB_DB_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    503: (
        HTTPError,
        "No PostgreSQL: DATABASE_URL is unset, no pooled connection came free within DB_POOL_TIMEOUT_SECONDS "
        "(retry after Retry-After), or the server cannot be reached",
    ),
}
TICKS = "`n` events named `tick` (data: LabStreamTick, id: its number), `ms` apart"
LAB_STREAM_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    422: (ValidationErrorBody, "n is not an integer from 1 to 1000, or ms not one from 0 to 2000"),
}
