"""Bearer tokens for `POST /merge` (RFC 6750): the rule both apps apply, each in its framework's own way."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# a token a person could guess or read over a shoulder is no secret: shorter ones stop the server at start-up
MIN_TOKEN_LENGTH = 16
# the name both OpenAPI documents give the scheme (FastAPI's default: HTTPBearer's class name)
SCHEME_NAME = "HTTPBearer"
SCHEME_DESCRIPTION = "One of the server's MERGE_TOKENS; `make serve` keeps one in `.merge-token`"


@dataclass(frozen=True)
class Refusal:
    """Why a request may not merge: the status, the detail and the WWW-Authenticate header to answer with."""

    status: int
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


# RFC 6750 section 3: no credentials (or another scheme) gets a bare challenge; a bad token or request says so
NO_TOKENS = Refusal(
    401,
    "Merges are turned off: the server was started without MERGE_TOKENS (or MERGE_TOKENS_FILE)",
    {"WWW-Authenticate": "Bearer"},
)
NOT_AUTHENTICATED = Refusal(
    401,
    "Not authenticated: send 'Authorization: Bearer <token>' with one of MERGE_TOKENS",
    {"WWW-Authenticate": "Bearer"},
)
MALFORMED = Refusal(
    400,
    "Malformed Authorization header: a bearer token is one word of letters, digits and -._~+/ (RFC 6750 section 2.1)",
    {"WWW-Authenticate": 'Bearer error="invalid_request"'},
)
INVALID_TOKEN = Refusal(
    401, "Invalid token: it is not one of MERGE_TOKENS", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
)


def token_problem(token: str) -> str | None:
    """Why a token cannot be one of MERGE_TOKENS, or None; the message never repeats the token."""
    if len(token) < MIN_TOKEN_LENGTH:
        return f"a token has {len(token)} characters; each needs at least {MIN_TOKEN_LENGTH}"
    if not B64TOKEN.fullmatch(token):
        return "a token may hold only letters, digits and -._~+/ (trailing = too), as RFC 6750 section 2.1 says"
    return None


def split_tokens(text: str) -> tuple[str, ...]:
    """The tokens of MERGE_TOKENS or of its file: separated by commas or line ends, blanks ignored."""
    return tuple(token.strip() for token in re.split(r"[,\n]", text) if token.strip())


def bearer_credentials(authorization: str | None) -> str | None:
    """The credentials of a `Bearer` Authorization header, or None: read as FastAPI's HTTPBearer reads them.

    The scheme is what comes before the first space, in any case; the credentials the rest, stripped.
    """
    scheme, _, credentials = (authorization or "").partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials else None


class MergeTokens:
    """The tokens that may start a merge, compared in constant time; none at all turns merges off."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = tuple(token.encode() for token in tokens)

    def __repr__(self) -> str:
        return f"MergeTokens(<{len(self._tokens)} hidden>)"  # never the tokens, in a log or a traceback

    def accepts(self, credentials: str) -> bool:
        """Whether `credentials` is one of the tokens; every token is compared, so the time tells nothing."""
        given = credentials.encode()
        found = False
        for token in self._tokens:
            found |= hmac.compare_digest(given, token)
        return found

    def refusal(self, credentials: str | None) -> Refusal | None:
        """What to answer a request with these bearer credentials (None: none were sent), or None to let it in."""
        if not self._tokens:
            return NO_TOKENS
        if credentials is None:
            return NOT_AUTHENTICATED
        if not B64TOKEN.fullmatch(credentials):
            return MALFORMED
        return None if self.accepts(credentials) else INVALID_TOKEN
