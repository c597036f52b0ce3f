"""A small client for the contract: tests talk to the API through it, whatever serves the API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent

from harness.timeline import at_once
from launcher import CLIENT_LIMITS, bearer, wait_for

JSON = {"Content-Type": "application/json"}


class ApiClient:
    """The two endpoints and the status endpoint, over real HTTP to `base_url`; a merge sends `token`, if given."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.authorization = bearer(token) if token else {}
        self.http = httpx.Client(base_url=base_url, timeout=timeout, limits=CLIENT_LIMITS)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def public_test(self) -> httpx.Response:
        """GET /public/test."""
        return self.http.get("/public/test")

    def start_merge(self, branch_name: Any = "feature/login") -> httpx.Response:
        """POST /merge with a JSON body naming the branch."""
        return self.http.post("/merge", json={"branch_name": branch_name}, headers=self.authorization)

    def post_merge(
        self,
        content: bytes | str | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
        *,
        authorized: bool = True,
    ) -> httpx.Response:
        """POST /merge with any body and headers, to try malformed requests; the token unless `authorized` is False."""
        return self.http.post(
            "/merge", content=content, headers={**self.authorization, **(headers or {})} if authorized else headers
        )

    def merge_status(self) -> httpx.Response:
        """GET /merge."""
        return self.http.get("/merge")

    def merge_history(self, limit: int = 10) -> httpx.Response:
        """GET /merge/history: the ledger's most recent merges, newest first."""
        return self.http.get("/merge/history", params={"limit": limit})

    def wait_until_free(self, timeout: float = 30.0) -> None:
        """Poll GET /merge until the shared resource is free."""
        wait_for(lambda: self.merge_status().json()["busy"] is False, timeout, "the shared resource to be free")


def race(base_urls: list[str], token: str, requests: int = 50) -> Counter[int]:
    """Fire `requests` POST /merge at once, spread over `base_urls`, each with `token`; count the answers by status."""

    def post(index: int, client: httpx.Client) -> int:
        return client.post("/merge", json={"branch_name": f"race/{index}"}, headers=bearer(token)).status_code

    _, statuses = at_once([base_urls[index % len(base_urls)] for index in range(requests)], post, timeout=30)
    if len(statuses) != requests:
        raise RuntimeError(f"{requests - len(statuses)} of {requests} POST /merge got no answer")
    return Counter(statuses.values())


def sse_events(response: httpx.Response) -> Iterator[ServerSentEvent]:
    """The events of an open text/event-stream answer, as a browser's EventSource dispatches them.

    httpx-sse also yields a block that holds only a comment (the heartbeat), as an event with empty data;
    the WHATWG rules dispatch no event for it, and neither does this.
    """
    return (event for event in EventSource(response).iter_sse() if event.data != "")
