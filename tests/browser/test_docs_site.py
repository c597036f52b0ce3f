"""The tutorial site in a real headless Chromium: at 1280 pixels no included line of code is cut.

The code here is formatted at 120 characters (ruff's line-length); the site's code column holds that many,
and this test fails the day a page includes a line it would have to scroll sideways to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from docs_hooks.screenshots import WIDTHS, build_site, chromium, open_page, pages, wide_code
from tests.support.tools import require_tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as `make docs` builds it."""
    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_tool("chromium", "apt-get install chromium")
    with chromium() as running:
        yield running


def test_the_site_has_its_pages(site: Path) -> None:
    built = pages(site)
    assert "index.html" in built
    assert "mix-and-match/index.html" in built
    assert len(built) >= 20


def test_no_line_of_code_is_cut_at_1280_pixels(site: Path, browser: Browser) -> None:
    cut = []
    for page in pages(site):
        tab = open_page(browser, site, page, WIDTHS[0], "light")
        cut += wide_code(tab, page)
        tab.close()
    assert not cut, "\n".join(str(block) for block in cut)


def test_the_check_finds_a_line_that_is_too_long(site: Path, browser: Browser) -> None:
    # the same check on the home page with one line of 200 characters added: it must say so, or it proves nothing
    long_line = "x = " + "1 + " * 49
    source = (site / "index.html").read_text()
    (site / "long-line.html").write_text(
        source.replace("</article>", f"<pre><code>{long_line}</code></pre></article>", 1)
    )
    tab = open_page(browser, site, "long-line.html", WIDTHS[0], "light")
    [found] = wide_code(tab, "long-line.html")
    tab.close()
    assert found.line == long_line
    assert found.fits < len(long_line)
