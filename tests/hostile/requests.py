"""Raw HTTP/1.1 requests, built by hypothesis as a hostile client would write them, for the differential test.

Bodies are bytes (JSON, JSON json.loads reads and the RFC refuses, other encodings, no JSON at all),
content types are any string, paths are the apps' paths bent out of their canonical form, queries repeat
and percent-encode what they like, the header set varies, and so do the Authorization lines (none, one or two,
mostly the servers' token, else every way to get it wrong). The framing stays correct (a Content-Length
that is the body's length, or valid chunks): tests/hostile/test_framing.py breaks it on purpose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from hypothesis import strategies as st

from launcher import checkout_token

PATHS = [
    "/public/test",
    "/merge",
    "/merge/history",
    "/lab/io",
    "/lab/blocking",
    "/lab/threadpool",
    "/lab/cpu",
    "/docs",
    "/openapi.json",
    "/static/swagger-ui/swagger-ui.css",
    "/",
    "/public",
    "/lab",
    "/nowhere",
]
METHODS = ["GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]
QUERY_NAMES = ["ms", "limit", "x", "MS", ""]
# small, or invalid: a valid ms waits that long, and the suite should not
QUERY_VALUES = ["0", "1", "2", "-1", "2001", "101", "abc", "", "1.5", "1e3", "0x1", " 1", "+1", "01", "１", "9" * 25]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "Application/JSON",
    "application/merge-patch+json",
    "application/jsonp",
    "text/plain",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json, text/plain",
    "",
    ";",
    "a/b/c",
]
EXPECTS = ["100-continue", "100-Continue", "200-ok", ""]
EXTRA_HEADERS = [
    ("Accept", "*/*"),
    ("Accept", "text/html"),
    ("Accept-Encoding", "gzip"),
    ("Connection", "close"),
    ("Connection", "keep-alive"),
    ("Content-Encoding", "gzip"),
    ("Cookie", "session=abc"),
    ("Origin", "http://evil.example"),
    ("X-Forwarded-For", "10.0.0.1"),
    ("X-Forwarded-Host", "evil.example"),
    ("X-HTTP-Method-Override", "DELETE"),
    ("Range", "bytes=0-10"),
    ("If-None-Match", "*"),
]

# the token the servers were started with (run_server gives every app the checkout's)
TOKEN = checkout_token()
# RFC 6750 section 2.1 says `Bearer 1*SP b64token`; around it, what a client gets wrong: the case and the spaces,
# another scheme, a token cut short or with more after it, bytes outside ASCII, parameters, nothing at all
BAD_AUTHORIZATIONS = [
    f"bearer {TOKEN}",
    f"BEARER  {TOKEN}",
    f"Bearer {TOKEN} ",
    f"Bearer\t{TOKEN}",
    f"Bearer {TOKEN}\xa0",
    f"Bearer \x85{TOKEN}",
    f"Bearer {TOKEN},",
    f"Bearer {TOKEN} x",
    f"Bearer {TOKEN[:-1]}",
    f"Bearer {TOKEN}=",
    f"Bearer {TOKEN.upper()}",
    f"Basic {TOKEN}",
    f"Token {TOKEN}",
    f"{TOKEN}",
    "Bearer",
    "Bearer ",
    "",
    "Bearer a b",
    'Bearer realm="merge", error="invalid_token"',
    "Bearer t\xf6ken-0123456789abcdef",
    "Bearer ===",
    "Bearer 0123456789abcdef0123",
]
# header values as a server lets them in: no CR, LF, NUL or DEL; bytes above 0x7F are latin-1 on the wire
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=24)
AUTHORIZATIONS = st.one_of(
    st.sampled_from([f"Bearer {TOKEN}"] * 3 + BAD_AUTHORIZATIONS),
    HEADER_TEXT,
    HEADER_TEXT.map(lambda text: f"Bearer {text}"),
)
# one Authorization line most of the time, so that a request reaches the body's rules; sometimes none or two
AUTHORIZATION_LINES = st.sampled_from([1] * 8 + [0, 2]).flatmap(
    lambda count: st.lists(AUTHORIZATIONS, min_size=count, max_size=count)
)

BRANCH_NAMES = st.one_of(
    st.sampled_from(["main", "feature/login", "a", "@", "-x", "a..b", "a/.b", "x.lock", "a b", "é", "a/", "/a", ""]),
    st.text(max_size=12),
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
)
MERGE_OBJECTS = st.fixed_dictionaries({"branch_name": BRANCH_NAMES | JSON_VALUES}, optional={"extra": JSON_VALUES})


def _json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


@st.composite
def _bent_json(draw: st.DrawFn) -> bytes:
    """Valid JSON text with one thing json.loads takes and RFC 8259 does not, or a syntax error, put in."""
    text = json.dumps(draw(MERGE_OBJECTS))
    insert = draw(st.sampled_from(["NaN", "-Infinity", "1e400", "9" * 4301, "[" * 40, "}", ",", "\\ud800", "'x'"]))
    at = draw(st.integers(0, len(text)))
    return (text[:at] + insert + text[at:]).encode()


BODIES = st.one_of(
    MERGE_OBJECTS.map(_json_bytes),
    JSON_VALUES.map(_json_bytes),
    MERGE_OBJECTS.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-16")),
    MERGE_OBJECTS.map(lambda value: json.dumps(value, ensure_ascii=False).encode("latin-1", "replace")),
    _bent_json(),
    st.binary(max_size=40),
    st.sampled_from([b"", b" ", b"null", b"[]", b"{}", b'{"branch_name": "main"', b"\xef\xbb\xbf{}"]),
)


@dataclass(frozen=True)
class RawRequest:
    """One request, as the bytes on the wire will have it."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    chunk_size: int | None  # None: Content-Length framing

    def count(self, name: str) -> int:
        """How many header lines carry this name (case-insensitive)."""
        return sum(1 for header, _value in self.headers if header.lower() == name.lower())

    def value(self, name: str) -> str | None:
        """The first value of a header, or None."""
        return next((value for header, value in self.headers if header.lower() == name.lower()), None)

    def to_bytes(self) -> bytes:
        """The request as it goes on the wire."""
        lines = [f"{self.method} {self.target} HTTP/1.1", *(f"{name}: {value}" for name, value in self.headers)]
        body = self.body or b""
        if self.body is not None and self.chunk_size is None:
            lines.append(f"Content-Length: {len(body)}")
        elif self.body is not None:
            lines.append("Transfer-Encoding: chunked")
            pieces = [body[i : i + self.chunk_size] for i in range(0, len(body), self.chunk_size)]
            body = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("latin-1") + body


@st.composite
def _paths(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(PATHS))
    bend = draw(
        st.sampled_from(["as-is", "as-is", "trailing", "double", "leading", "encode", "encode-slash", "upper", "dots"])
    )
    if bend == "trailing":
        return path.rstrip("/") + "/"
    if bend == "double":
        at = draw(st.integers(0, len(path) - 1))
        return path[:at] + "/" + path[at:] if path[at] == "/" else path + "//"
    if bend == "leading":
        return "/" + path
    if bend == "encode" and len(path) > 1:
        at = draw(st.integers(1, len(path) - 1))
        return path[:at] + f"%{ord(path[at]):02x}" + path[at + 1 :]
    if bend == "encode-slash":
        return "/" + path[1:].replace("/", "%2F", draw(st.integers(1, 2)))
    if bend == "upper":
        return path.upper()
    if bend == "dots":
        return "/public/.." + path
    return path


@st.composite
def _queries(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES), st.sampled_from(QUERY_VALUES)), max_size=3))
    escape = draw(st.sampled_from(["quote", "raw-bytes"]))
    parts = [f"{quote(name)}={quote(value) if escape == 'quote' else value}" for name, value in pairs]
    parts += draw(st.lists(st.sampled_from(["%ff", "ms=%fe", "%", "ms=%zz", "&", "ms", "limit=%C3%A9"]), max_size=1))
    query = "&".join(parts)
    # a request line is latin-1 on the wire: a raw fullwidth digit goes as its UTF-8 bytes
    return query.encode().decode("latin-1")


@st.composite
def raw_requests(draw: st.DrawFn) -> RawRequest:
    """A request with a method, a bent path, a query, a header set and a body (or none).

    Weighted towards requests that reach a route (POST /merge with one JSON Content-Type, a canonical
    path), so that the apps' own rules, not only the servers' and the routers', meet the hostile parts.
    """
    method = draw(st.sampled_from(["POST"] * 5 + ["GET"] * 3 + METHODS))
    path = draw(st.sampled_from(["/merge"] * 4 + ["/lab/io", "/merge/history", "/public/test"] * 2) | _paths())
    query = draw(_queries())
    target = path + (f"?{query}" if query else "")
    headers: list[tuple[str, str]] = [("Host", "127.0.0.1")]
    json_type = ["application/json"]
    for content_type in draw(
        st.sampled_from([json_type] * 4 + [[]]) | st.lists(st.sampled_from(CONTENT_TYPES), max_size=2)
    ):
        headers.append(("Content-Type", content_type))
    if expect := draw(st.sampled_from([None] * 12 + EXPECTS)):
        headers.append(("Expect", expect))
    headers += draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=2, unique=True))
    headers += [("Authorization", value) for value in draw(AUTHORIZATION_LINES)]
    body = draw(st.none() | BODIES) if method != "POST" else draw(BODIES)
    chunk_size = draw(st.none() | st.none() | st.integers(1, 16)) if body else None
    return RawRequest(method, target, tuple(headers), body, chunk_size)


@st.composite
def merge_attempts(draw: st.DrawFn) -> RawRequest:
    """POST /merge as a client that means it would send it, but with a hostile body and content type."""
    content_type = draw(st.sampled_from(["application/json"] * 6 + CONTENT_TYPES))
    body = draw(BODIES)
    chunk_size = draw(st.none() | st.integers(1, 16)) if body else None
    authorizations = tuple(("Authorization", value) for value in draw(AUTHORIZATION_LINES))
    headers = (("Host", "127.0.0.1"), ("Content-Type", content_type), *authorizations)
    return RawRequest("POST", "/merge", headers, body, chunk_size)


# half the examples try to merge, half are any request
REQUESTS = st.one_of(merge_attempts(), raw_requests())
