"""The tutorial site in a real headless Chromium: at 1280 pixels no included line of code is cut.

The code here is formatted at 120 characters (ruff's line-length); the site's code column holds that many,
and this test fails the day a page includes a line it would have to scroll sideways to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from docs_hooks.screenshots import WIDTHS, WideCode, build_site, chromium, open_page, pages, wide_code
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


# an image whose paragraph is followed by a caption (a paragraph all in italics), and whose alt text says what it
# shows rather than naming its file
BARE_IMAGES = """() => [...document.querySelectorAll('article img')].filter((img) => {
  const next = img.closest('p')?.nextElementSibling;
  const caption = next?.tagName === 'P' && next.firstElementChild?.tagName === 'EM'
    && next.textContent.trim() === next.firstElementChild.textContent.trim();
  const alt = (img.getAttribute('alt') || '').trim();
  return !caption || alt.split(' ').length < 4 || /\\.(png|svg|jpe?g)$/.test(alt);
}).map((img) => img.getAttribute('src'))"""
SCREEN = 900  # pixels: one screen of a 1280 by 900 window


@dataclass(frozen=True)
class Measured:
    """What one look at a page at 1280 pixels found: its code blocks too wide, its bare images, its length."""

    wide: list[WideCode]
    bare_images: list[str]
    screens: float


@pytest.fixture(scope="module")
def measured(site: Path, browser: Browser) -> dict[str, Measured]:
    """Every page opened once, in the light scheme at 1280 pixels, for the checks below."""
    found = {}
    for page in pages(site):
        tab = open_page(browser, site, page, WIDTHS[0], "light")
        found[page] = Measured(
            wide_code(tab, page),
            tab.evaluate(BARE_IMAGES),
            tab.evaluate("document.querySelector('article').scrollHeight") / SCREEN,
        )
        tab.close()
    return found


def test_the_site_has_its_pages(site: Path) -> None:
    built = pages(site)
    assert "index.html" in built
    assert "mix-and-match/index.html" in built
    assert len(built) >= 20


def test_no_line_of_code_is_cut_at_1280_pixels(measured: dict[str, Measured]) -> None:
    cut = [block for page in measured.values() for block in page.wide]
    assert not cut, "\n".join(str(block) for block in cut)


def test_every_image_has_alt_text_and_a_caption(site: Path, browser: Browser, measured: dict[str, Measured]) -> None:
    bare = [f"{page}: {source}" for page, found in measured.items() for source in found.bare_images]
    assert not bare, "\n".join(bare)
    # and the check sees a bare image: the home page with one added
    source = (site / "index.html").read_text()
    added = '<p><img src="x.png" alt="timeline-x.png"></p><p><em>A caption.</em></p>'  # a caption, a file for alt
    added += '<p><img src="y.png" alt="Five requests, one after another"></p><p>Not a caption.</p>'
    (site / "bare-image.html").write_text(source.replace("</article>", added + "</article>", 1))
    tab = open_page(browser, site, "bare-image.html", WIDTHS[0], "light")
    assert tab.evaluate(BARE_IMAGES) == ["x.png", "y.png"]
    tab.close()
    (site / "bare-image.html").unlink()


MOST_SCREENS = 5.5  # "about four screens" of prose, with the figures and code between them
# pages allowed to be longer, each with its most screens (about a tenth over its length when it was listed) and
# its reason: a page that grows past its most is cut, or given more on purpose; one that has become short
# enough leaves the list
LONG_PAGES = {
    "concurrency/index.html": (
        6.5,
        "the lesson's pictures: ten timelines in tabs, the diagram of the loop and its thread pool, the arithmetic",
    ),
    "pitfalls/index.html": (
        8.3,
        "four pitfalls, each with its reproduction, its don't and do and its timeline, after the table of the four",
    ),
    "streams/index.html": (6.3, "the three long-lived routes on both apps, each with its code on both sides"),
    "mix-and-match/index.html": (
        7.2,
        "the table and chart of every framework on every server, with the contract's exceptions row by row",
    ),
    "load-testing/index.html": (6.4, "the closed loop's rules and the open loop's, each with its command and table"),
    "running/index.html": (6.8, "every way to start the apps, with both servers' settings files"),
    "reference/contract-suite/index.html": (
        6.3,
        "the contract suite's conftest in full: how one test body becomes a test per server, row or URL",
    ),
    "results/waiting/index.html": (7.0, "the run's own report for the waiting scenarios, with its charts"),
    "many/hostile-input/index.html": (
        7.3,
        "the table of what each server answers before the app, which its test reads from the page, "
        "and the rules that follow from it",
    ),
    "many/scale-out/index.html": (
        6.3,
        "one set-up run three ways (Redis, a lock per instance, Locust distributed), each with its output",
    ),
    "reference/faults/index.html": (8.8, "reference: one section per fault, each with its test and figures"),
    "reference/limits/index.html": (7.3, "reference: one section per limit of each server, with nginx in front"),
}


def test_no_page_is_longer_than_about_four_screens_without_a_reason(measured: dict[str, Measured]) -> None:
    screens = {page: found.screens for page, found in measured.items()}
    most = {page: LONG_PAGES[page][0] if page in LONG_PAGES else MOST_SCREENS for page in screens}
    too_long = {page: f"{n:.1f} > {most[page]}" for page, n in screens.items() if n > most[page]}
    assert not too_long, f"pages longer than their most screens (LONG_PAGES, else {MOST_SCREENS}): {too_long}"
    short_now = [page for page in LONG_PAGES if screens.get(page, 0) <= MOST_SCREENS]
    assert not short_now, f"no longer long, take them out of LONG_PAGES: {short_now}"


def test_home_shows_the_lesson_on_its_first_screen(site: Path, browser: Browser) -> None:
    # the question, its answer and the picture that says it, before any scrolling at 1280 by 900
    tab = open_page(browser, site, "index.html", WIDTHS[0], "light")
    card = tab.locator("article .admonition").first.bounding_box()
    picture = tab.locator("article img").first.bounding_box()
    tab.close()
    assert card is not None
    assert picture is not None
    assert card["y"] < SCREEN / 2
    assert picture["y"] + picture["height"] <= SCREEN


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
    (site / "long-line.html").unlink()
    assert found.line == long_line
    assert found.fits < len(long_line)
