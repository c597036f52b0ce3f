"""Bodies json.loads reads but RFC 8259 does not allow, and bodies in other encodings: one 422, the same on both apps.

Each goes to both real servers as it is. Both answer 422 json_invalid at the first problem's position
(counted in characters, as json.loads counts), with a body a strict JSON client can read, and neither
starts a merge. The rules are common/json_body.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from launcher import RunningServer, bearer, checkout_token
from tests.support.strict_json import loads_strict

pytestmark = pytest.mark.usefixtures("no_new_merges", "no_tracebacks")

DIGITS_4301 = "1" * 4301  # one past Python's limit for int(str) (sys.get_int_max_str_digits)

# (body, error text, position)
NOT_RFC_8259 = [
    pytest.param(b'{"branch_name": NaN}', "NaN is not a JSON value (RFC 8259 section 6)", 16, id="nan"),
    pytest.param(b'{"branch_name": Infinity}', "Infinity is not a JSON value (RFC 8259 section 6)", 16, id="infinity"),
    pytest.param(
        b'{"branch_name": -Infinity}', "-Infinity is not a JSON value (RFC 8259 section 6)", 16, id="minus-infinity"
    ),
    pytest.param(b'{"branch_name": 1e400}', "number out of range: 1e400 is past a double", 16, id="1e400"),
    pytest.param(
        f'{{"branch_name": {DIGITS_4301}}}'.encode(),
        "number out of range: an integer of 4301 digits (at most 4300)",
        16,
        id="4301-digits",
    ),
    # malformed and too deep: the first problem is the 33rd bracket, whichever check runs first
    pytest.param(b"[" * 40, "nested more than 32 levels deep", 32, id="deep-and-unfinished"),
    pytest.param(b'{"a": ' + b"[" * 40 + b"x", "nested more than 32 levels deep", 37, id="deep-then-garbage"),
    # a syntax error before the NaN comes first
    pytest.param(b'{"branch_name" NaN}', "Expecting ':' delimiter", 15, id="syntax-error-before-nan"),
    pytest.param(
        b'{"branch_name": "a", "b": [NaN, 1e999]}',
        "NaN is not a JSON value (RFC 8259 section 6)",
        27,
        id="nan-in-a-list",
    ),
]

# RFC 8259 section 8.1: JSON between systems is UTF-8; json.loads of bytes would also read UTF-16 and -32
OTHER_ENCODINGS = [
    pytest.param('{"branch_name": "é"}'.encode("latin-1"), "not UTF-8: invalid continuation byte", 17, id="latin-1"),
    pytest.param('{"branch_name": "a"}'.encode("utf-16"), "not UTF-8: invalid start byte", 0, id="utf-16-with-bom"),
    pytest.param(
        '{"branch_name": "a"}'.encode("utf-16-le"),
        "Expecting property name enclosed in double quotes",
        1,
        id="utf-16-le",
    ),
    pytest.param('{"branch_name": "a"}'.encode("utf-32"), "not UTF-8: invalid start byte", 0, id="utf-32-with-bom"),
    pytest.param(
        b'\xef\xbb\xbf{"branch_name": "a"}', "a byte order mark: JSON text must not begin with one", 0, id="utf-8-bom"
    ),
    # the position counts characters: the ü before the bad byte is two bytes and one character
    pytest.param(
        '{"branch_name": "ü'.encode() + b'\xff"}', "not UTF-8: invalid start byte", 18, id="after-a-2-byte-character"
    ),
]


def post_raw(server: RunningServer, body: bytes, content_type: str = "application/json") -> httpx.Response:
    headers = {"Content-Type": content_type, **bearer(checkout_token())}
    return httpx.post(f"{server.url}/merge", content=body, headers=headers, timeout=10)


def json_invalid(error: str, position: int) -> dict[str, Any]:
    return {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", position],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": error},
            }
        ]
    }


@pytest.mark.parametrize(("body", "error", "position"), NOT_RFC_8259 + OTHER_ENCODINGS)
def test_a_body_that_is_not_rfc_8259_json_is_one_422_on_both_apps(
    servers: dict[str, RunningServer], body: bytes, error: str, position: int
) -> None:
    for server in servers.values():
        response = post_raw(server, body)

        assert response.status_code == 422
        assert loads_strict(response.content) == json_invalid(error, position)


def test_a_charset_parameter_changes_nothing(servers: dict[str, RunningServer]) -> None:
    # RFC 8259 section 11: application/json defines no charset, "adding one really has no effect"
    for server in servers.values():
        response = post_raw(server, '{"branch_name": "é"}'.encode("latin-1"), "application/json; charset=latin-1")

        assert response.status_code == 422
        assert loads_strict(response.content) == json_invalid("not UTF-8: invalid continuation byte", 17)


# bodies schemathesis does not send, found by hand while fuzzing: both apps answered them with a 500 (or,
# FastAPI, an undocumented 400). A lone surrogate is not UTF-8, but JSON can write one as an escape, which
# json.loads accepts; the 422 echoes it back written out ("\\ud800"), so that a strict client can read it
ECHOED = [
    pytest.param(
        '{"branch_name": "\\ud800"}', "string_unicode", ["body", "branch_name"], "\\ud800", id="lone-surrogate"
    ),
    pytest.param(
        '{"branch_name": "a/\\udfff"}', "string_unicode", ["body", "branch_name"], "a/\\udfff", id="lone-low-surrogate"
    ),
    pytest.param(
        '{"branch_name": {"\\ud800": 1}}', "string_type", ["body", "branch_name"], {"\\ud800": 1}, id="surrogate-key"
    ),
]


@pytest.mark.parametrize(("body", "issue_type", "location", "echoed"), ECHOED)
def test_an_input_no_utf_8_can_hold_is_echoed_written_out(
    servers: dict[str, RunningServer], body: str, issue_type: str, location: list[str], echoed: Any
) -> None:
    for server in servers.values():
        response = post_raw(server, body.encode())

        assert response.status_code == 422
        (issue,) = loads_strict(response.content)["detail"]
        assert (issue["type"], issue["loc"], issue["input"]) == (issue_type, location, echoed)


@pytest.mark.parametrize(
    ("body", "position"),
    [
        pytest.param("[" * 33 + "]" * 33, 32, id="nested-33"),
        pytest.param('{"branch_name": ' + "[" * 600 + "]" * 600 + "}", 47, id="nested-600"),
        pytest.param("[" * 5000 + "]" * 5000, 32, id="nested-5000"),
    ],
)
def test_a_body_nested_too_deep_is_refused_not_a_500(
    servers: dict[str, RunningServer], body: str, position: int
) -> None:
    for server in servers.values():
        response = post_raw(server, body.encode())

        assert response.status_code == 422
        assert loads_strict(response.content) == json_invalid("nested more than 32 levels deep", position)
