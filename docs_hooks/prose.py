"""The site's prose, counted: the words a reader reads, page by page, against the budgets the lesson keeps.

Prose is a page less its code blocks, tables, snippet includes, HTML comments and the addresses of links and
images (their text stays). The lesson path is Home and the pages of the nav's "The lesson" section, read in
nav order; the first measured picture must come within its first `FIRST_PICTURE` words.

    python -m docs_hooks.prose          # every page, the lesson path, the site, and what breaks a budget
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LESSON_SECTION = "The lesson"
LESSON_PATH_WORDS = 6_000
SITE_WORDS = 24_000
FIRST_PICTURE = 800

FENCE = re.compile(r"^\s*(```|~~~)")
# a snippet line, `--8<-- "path"`, or the marker that opens and closes a block of paths
SNIPPET = re.compile(r"^\s*;?--8<--")
SNIPPET_BLOCK = re.compile(r"^\s*--8<--\s*$")
TABLE_ROW = re.compile(r"^\s*\|")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)(\{[^}]*\})?")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
WORD = re.compile(r"[\w'’./:@-]*\w[\w'’./:@-]*")


@dataclass(frozen=True)
class Page:
    """One page's prose: its words, and how many come before its first image (None: it has none)."""

    path: str
    words: int
    before_first_picture: int | None


def prose_lines(markdown: str) -> list[str]:
    """The page's lines of prose, code blocks, tables and snippet lines left out; images kept as a marker."""
    lines, fenced, included = [], False, False
    for line in COMMENT.sub("", markdown).splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and SNIPPET_BLOCK.match(line):
            included = not included
            continue
        if fenced or included or SNIPPET.match(line) or TABLE_ROW.match(line):
            continue
        lines.append(LINK.sub(r"\1", IMAGE.sub(" \0IMAGE\0 ", line)))
    return lines


def count(markdown: str, path: str = "") -> Page:
    """Count one page's prose words, and those before its first picture."""
    words, before = 0, None
    for line in prose_lines(markdown):
        for part in re.split(r"(\0IMAGE\0)", line):
            if part == "\0IMAGE\0":
                before = words if before is None else before
            else:
                words += len(WORD.findall(part))
    return Page(path, words, before)


def nav_pages(config: Path = ROOT / "mkdocs.yml") -> tuple[list[str], list[str]]:
    """The site's pages in nav order, and the lesson path (Home, then the lesson section) among them."""

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may hold !ENV and python tags; the nav needs none of them
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    nav = yaml.load(config.read_text(), Loader=Loader)["nav"]
    everything: list[str] = []
    lesson: list[str] = []

    def walk(entries: list, section: str | None) -> None:
        for entry in entries:
            if isinstance(entry, str):
                found = [entry]
            else:
                [(title, value)] = entry.items()
                if isinstance(value, list):
                    walk(value, title)
                    continue
                found = [value]
            everything.extend(found)
            if section == LESSON_SECTION or (section is None and found == ["index.md"]):
                lesson.extend(found)

    walk(nav, None)
    return everything, lesson


def measure() -> tuple[list[Page], list[Page]]:
    """Every page of the nav counted, and the lesson path's pages among them."""
    everything, lesson = nav_pages()
    pages = {path: count((DOCS / path).read_text(), path) for path in everything}
    return list(pages.values()), [pages[path] for path in lesson]


def over_budget(pages: list[Page], lesson: list[Page]) -> list[str]:
    """What breaks a budget, one line each, naming the pages to cut; empty when every budget holds."""
    broken = []
    lesson_words = sum(page.words for page in lesson)
    if lesson_words > LESSON_PATH_WORDS:
        longest = ", ".join(f"{p.path} {p.words}" for p in sorted(lesson, key=lambda p: -p.words)[:3])
        broken.append(f"the lesson path is {lesson_words} prose words, over {LESSON_PATH_WORDS} (longest: {longest})")
    site_words = sum(page.words for page in pages)
    if site_words > SITE_WORDS:
        longest = ", ".join(f"{p.path} {p.words}" for p in sorted(pages, key=lambda p: -p.words)[:3])
        broken.append(f"the site is {site_words} prose words, over {SITE_WORDS} (longest: {longest})")
    read = 0
    for page in lesson:
        if page.before_first_picture is not None:
            read += page.before_first_picture
            break
        read += page.words
    else:
        broken.append("the lesson path has no picture at all")
    if read > FIRST_PICTURE:
        broken.append(f"the first picture comes after {read} prose words of the lesson path, over {FIRST_PICTURE}")
    return broken


def main() -> int:
    """Print every page's prose words, the two totals, and any budget broken (exit 1)."""
    pages, lesson = measure()
    on_path = {page.path for page in lesson}
    for page in pages:
        print(f"{page.words:6d}  {'lesson  ' if page.path in on_path else '        '}{page.path}")
    print(f"{sum(p.words for p in lesson):6d}  the lesson path (at most {LESSON_PATH_WORDS})")
    print(f"{sum(p.words for p in pages):6d}  the site (at most {SITE_WORDS})")
    broken = over_budget(pages, lesson)
    for line in broken:
        print(f"over budget: {line}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
