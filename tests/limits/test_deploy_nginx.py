"""deploy/nginx.conf, the reverse proxy the docs recommend: nginx accepts it, and it keeps the apps' contract."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from launcher import RunningNginx, bearer, checkout_token, free_port
from launcher.nginx import check_config, write_config
from tests.support.rawhttp import RawResponse, exchange, post

MAX_BODY_BYTES = 16384  # the apps' default, and client_max_body_size in deploy/nginx.conf


def test_nginx_accepts_the_deploy_config(nginx_path: str, tmp_path: Path) -> None:
    check = check_config(nginx_path, write_config(tmp_path, free_port(), ["http://127.0.0.1:8000"]))
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr


def test_the_app_answers_through_nginx(nginx_to_uvicorn: RunningNginx) -> None:
    response = httpx.get(f"{nginx_to_uvicorn.url}/public/test", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"message": "anyone can see this"}


def _assert_nginx_413(response: RawResponse | None) -> None:
    assert response is not None
    assert response.status == 413
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {
        "detail": f"Request body too large: the limit is {MAX_BODY_BYTES} bytes (client_max_body_size in nginx)"
    }


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            post(b"a" * (MAX_BODY_BYTES + 1), f"Content-Length: {MAX_BODY_BYTES + 1}\r\n"), id="one-byte-over"
        ),
        # announced, never sent: nginx refuses by the Content-Length alone, as the apps do
        pytest.param(post(b"", "Content-Length: 2000000\r\n"), id="announced-only"),
        pytest.param(
            post(
                b"%x\r\n%s\r\n0\r\n\r\n" % (MAX_BODY_BYTES + 1, b"a" * (MAX_BODY_BYTES + 1)),
                "Transfer-Encoding: chunked\r\n",
            ),
            id="chunked",
        ),
    ],
)
def test_a_body_over_the_limit_is_refused_by_nginx_in_the_apps_json_shape(
    nginx_to_uvicorn: RunningNginx, request_bytes: bytes
) -> None:
    # nginx's limit is the apps' MAX_BODY_BYTES, so such a body never reaches an app (whose early 413
    # and close, while nginx was still sending the body, came back as a 502 now and then)
    _assert_nginx_413(exchange(nginx_to_uvicorn.url, request_bytes))


def test_a_body_at_the_limit_goes_through_to_the_app(nginx_to_uvicorn: RunningNginx) -> None:
    body = json.dumps({"branch_name": "a" * (MAX_BODY_BYTES - 20)}).encode().ljust(MAX_BODY_BYTES)
    response = httpx.post(
        f"{nginx_to_uvicorn.url}/merge",
        content=body,
        headers={"Content-Type": "application/json", **bearer(checkout_token())},
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_too_long"
