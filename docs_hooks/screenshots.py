"""`python -m docs_hooks.screenshots`: build the site and screenshot every page in headless Chromium.

Each page at 1280 and at 390 pixels wide, in the light and the dark scheme: what a reader sees on a laptop and
on a phone. The browser is Debian's `chromium`, driven by Playwright, with the network cut off: the site must
render from its own files. `make screenshots` writes them into site-screenshots/; `tests/browser/` uses the
same functions to check that no included line of code is cut at 1280 pixels.

    python -m docs_hooks.screenshots                 # every page, both widths, both schemes
    python -m docs_hooks.screenshots --pages lock,streams --widths 1280 --out /tmp/shots
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from playwright.sync_api import Browser, Page, sync_playwright

from launcher import HOST

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (1280, 390)
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # no name resolves but the loopback servers' address: nothing can leave the machine, and a page that needs
    # a CDN shows it (tests/browser/test_swagger_ui.py also aborts every request to another host)
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
]
# for each code block wider than its column: the page's first line that does not fit, and by how much
WIDE_CODE = """() => [...document.querySelectorAll('.md-content pre > code')]
  .filter((code) => code.scrollWidth > code.clientWidth + 1)
  .map((code) => {
    const style = getComputedStyle(code);
    // a probe inside the block itself, so that it has the block's font and stays inline
    const probe = document.createElement('span');
    probe.textContent = 'x'.repeat(100);
    code.appendChild(probe);
    const perCharacter = probe.getBoundingClientRect().width / 100;
    probe.remove();
    const fits = Math.floor((code.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight))
      / perCharacter);
    const line = code.textContent.split('\\n').find((text) => text.length > fits) || '';
    return {fits: fits, line: line};
  })"""


@dataclass(frozen=True)
class WideCode:
    """A code block on a page that needs sideways scrolling: its first line too long, and what fits."""

    page: str
    fits: int
    line: str

    def __str__(self) -> str:
        return f"{self.page}: {len(self.line)} characters where {self.fits} fit: {self.line.strip()[:100]}"


def build_site(folder: Path) -> Path:
    """Build the site into `folder` as `make docs` does (strict: a warning fails); the folder."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(folder)]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    return folder


def pages(site: Path) -> list[str]:
    """Every page of the built site, as a path from its root: "index.html", "results/wrk/index.html"..."""
    found = [path.relative_to(site).as_posix() for path in sorted(site.rglob("index.html"))]
    return [page for page in found if not page.startswith(("assets/", "search/"))]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium, with no network."""
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed: apt-get install chromium")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, site: Path, page: str, width: int, scheme: Literal["light", "dark"]) -> Page:
    """One page of the site at `width` pixels in `scheme`, loaded."""
    tab = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    tab.goto((site / page).as_uri())
    tab.wait_for_load_state("load")
    return tab


def wide_code(tab: Page, page: str) -> list[WideCode]:
    """The code blocks of an open page that are wider than their column."""
    found = tab.evaluate(WIDE_CODE)
    return [WideCode(page, block["fits"], block["line"]) for block in found]


def screenshot_name(page: str, width: int, scheme: str) -> str:
    """results/wrk/index.html at 390 in dark: results-wrk-390-dark.png."""
    stem = page.removesuffix("index.html").strip("/").replace("/", "-") or "home"
    return f"{stem}-{width}-{scheme}.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs_hooks.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site-screenshots", help="default: site-screenshots/")
    parser.add_argument("--pages", help="comma-separated page names (lock, results/wrk); default: every page")
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)), help="pixels, comma-separated (1280,390)")
    arguments = parser.parse_args(argv)
    widths = [int(width) for width in arguments.widths.split(",")]
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="site-") as scratch, chromium() as browser:
        site = build_site(Path(scratch))
        chosen = pages(site)
        if arguments.pages:
            wanted = {name.strip("/") for name in arguments.pages.split(",")}
            chosen = [page for page in chosen if page.removesuffix("/index.html").removesuffix("index.html") in wanted]
        wide: list[WideCode] = []
        for number, page in enumerate(chosen, 1):
            for width in widths:
                for scheme in SCHEMES:
                    tab = open_page(browser, site, page, width, scheme)
                    if width >= WIDTHS[0] and scheme == "light":
                        wide += wide_code(tab, page)
                    tab.screenshot(path=arguments.out / screenshot_name(page, width, scheme), full_page=True)
                    tab.close()
            print(f"[{number}/{len(chosen)}] {page}", flush=True)
    print(f"{len(chosen) * len(widths) * len(SCHEMES)} screenshots in {arguments.out}")
    for block in wide:
        print(f"cut at {WIDTHS[0]} px: {block}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
