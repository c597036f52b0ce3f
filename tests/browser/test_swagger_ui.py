"""Swagger UI at `/docs` renders in a real headless Chromium, on both apps served by real servers.

The browser has no network: every request to a host other than 127.0.0.1 is aborted and recorded, and
no name resolves. So a page that renders proves its Swagger UI files come from the installed package,
not from a CDN.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, Request, Response, Route, expect

from asgi_app.app import TITLE as ASGI_TITLE
from common.swagger_ui import SWAGGER_CSS, SWAGGER_JS
from docs_hooks.screenshots import chromium
from launcher import HOST, RunningServer, checkout_token, run_server
from launcher.catalog import GUNICORN_SYNC_1, UVICORN
from tests.support.tools import require_tool
from wsgi_app.app import TITLE as WSGI_TITLE

TITLES = {"asgi": ASGI_TITLE, "wsgi": WSGI_TITLE}
# the /lab routes may be listed too (LAB_ENDPOINTS): these three are the ones every server must show
CONTRACT_OPERATIONS = [("GET", "/public/test"), ("POST", "/merge"), ("GET", "/merge")]
POST_MERGE_ANSWERS = ["202", "400", "401", "409", "413", "415", "422", "503"]
# where FastAPI's own /docs would load Swagger UI from
CDN_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"


@dataclass
class DocsPage:
    """The `/docs` page once Swagger UI has drawn it, with everything the browser saw on the way."""

    page: Page
    statuses: dict[str, int] = field(default_factory=dict)  # path of each local request: its status
    failed: list[str] = field(default_factory=list)  # local requests that got no answer at all
    blocked: list[str] = field(default_factory=list)  # requests to anywhere else, aborted
    page_errors: list[str] = field(default_factory=list)  # uncaught JavaScript exceptions


def is_local(url: str) -> bool:
    """Whether `url` goes to the loopback address the servers listen on."""
    return urlsplit(url).hostname == HOST


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium with no network, or a skip (a failure in CI) if it is not installed."""
    # the system browser: `playwright install` would download one, and this machine has no internet
    require_tool("chromium", "apt-get install chromium")
    with chromium() as running:
        yield running


@pytest.fixture(scope="module", params=[UVICORN, GUNICORN_SYNC_1], ids=["asgi", "wsgi"])
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """One of the two apps, served by its real server."""
    with run_server(request.param, {}) as running:
        yield running


@pytest.fixture
def docs(browser: Browser, server: RunningServer) -> Iterator[DocsPage]:
    """Open `/docs` with the network cut off and wait until Swagger UI has drawn the operations."""
    context = browser.new_context()
    docs_page = DocsPage(context.new_page())

    def only_local(route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            docs_page.blocked.append(route.request.url)
            route.abort()

    def answered(response: Response) -> None:
        if is_local(response.url):
            docs_page.statuses[urlsplit(response.url).path] = response.status

    def unanswered(request: Request) -> None:
        if is_local(request.url):
            docs_page.failed.append(f"{request.url}: {request.failure}")

    context.route("**/*", only_local)
    docs_page.page.on("response", answered)
    docs_page.page.on("requestfailed", unanswered)
    docs_page.page.on("pageerror", lambda error: docs_page.page_errors.append(str(error)))
    try:
        docs_page.page.goto(f"{server.url}/docs")
        for method, path in CONTRACT_OPERATIONS:
            # expect polls until Swagger UI has fetched /openapi.json and drawn it; the big bundle may parse slowly
            expect(operation(docs_page.page, method, path)).to_be_visible(timeout=30_000)
        # and then until the browser has fetched everything the page asked for, the favicon too
        docs_page.page.wait_for_load_state("networkidle")
        yield docs_page
    finally:
        context.close()


def operation(page: Page, method: str, path: str) -> Locator:
    """The block Swagger UI draws for one operation."""
    summary_path = page.locator(f".opblock-summary-path[data-path='{path}']")
    return page.locator(f".opblock-{method.lower()}").filter(has=summary_path)


def test_swagger_ui_renders_every_operation(docs: DocsPage, server: RunningServer, tmp_path: Path) -> None:
    title = TITLES[server.config.interface]

    for method, path in CONTRACT_OPERATIONS:
        assert operation(docs.page, method, path).locator(".opblock-summary-method").inner_text() == method
    assert docs.page.title() == f"{title} - Swagger UI"
    expect(docs.page.locator(".info .title")).to_contain_text(title)
    assert docs.page.locator(".errors-wrapper").count() == 0
    screenshot = docs.page.screenshot(path=tmp_path / f"swagger-ui-{server.config.interface}.png", full_page=True)
    assert screenshot.startswith(b"\x89PNG")
    assert docs.page_errors == []


def test_swagger_ui_loads_only_local_files(docs: DocsPage) -> None:
    assert docs.blocked == []
    assert docs.failed == []
    assert set(docs.statuses.values()) == {200}, docs.statuses
    assert {"/docs", SWAGGER_CSS, SWAGGER_JS, "/openapi.json"} <= docs.statuses.keys()
    assert docs.page_errors == []


def test_swagger_ui_lists_every_answer_of_post_merge(docs: DocsPage) -> None:
    start_merge = operation(docs.page, "POST", "/merge")
    start_merge.locator(".opblock-summary").click()
    answers = start_merge.locator("tr.response")
    expect(answers).to_have_count(len(POST_MERGE_ANSWERS))

    assert [answer.get_attribute("data-code") for answer in answers.all()] == POST_MERGE_ANSWERS
    assert docs.blocked == []
    assert docs.page_errors == []


def send_a_merge(start_merge: Locator, branch_name: str) -> str:
    """Fill POST /merge's body with `branch_name`, press Execute, and return the status Swagger UI shows."""
    start_merge.locator("textarea.body-param__text").fill(f'{{"branch_name": "{branch_name}"}}')
    start_merge.locator("button.execute").click()
    status = start_merge.locator(".live-responses-table .response .response-col_status")
    status.wait_for(timeout=10_000)
    return status.inner_text().strip()


def test_authorize_then_send_a_merge_from_the_page(docs: DocsPage) -> None:
    start_merge = operation(docs.page, "POST", "/merge")
    start_merge.locator(".opblock-summary").click()
    expect(start_merge.locator(".authorization__btn")).to_be_visible()  # the lock: this operation needs a token
    start_merge.locator("button.try-out__btn").click()
    assert send_a_merge(start_merge, "swagger/without-token") == "401"

    # the Authorize button at the top: the bearer scheme both documents declare, and the checkout's token
    docs.page.locator(".auth-wrapper button.authorize").click()
    dialog = docs.page.locator(".dialog-ux")
    dialog.locator("input").fill(checkout_token())
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()

    start_merge.locator("button.btn-clear").click()
    assert send_a_merge(start_merge, "swagger/authorized") == "202"
    assert docs.page_errors == []


def test_the_page_cannot_reach_the_internet(docs: DocsPage) -> None:
    # proves the guard works: otherwise an empty `blocked` could just mean the route never ran
    outcome = docs.page.evaluate("url => fetch(url).then(() => 'loaded', () => 'refused')", CDN_CSS)

    assert outcome == "refused"
    assert docs.blocked == [CDN_CSS]
