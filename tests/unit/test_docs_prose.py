"""The site's word budgets: the lesson path (Home and "The lesson") and the whole site, counted as prose."""

from __future__ import annotations

from docs_hooks.prose import FIRST_PICTURE, LESSON_PATH_WORDS, SITE_WORDS, Page, count, measure, nav_pages, over_budget

SAMPLE = """# A page

Two words, then [a link](elsewhere.md#anchor) and `inline code`.
<!-- a comment nobody reads -->

```python
print("code is not prose")
```

| a | table |
| --- | --- |
| not | prose |

--8<--
asgi_app/routes.py
--8<--

![Five requests, one after another](figures/x.png)

*A caption.*
"""


def test_prose_leaves_out_code_tables_includes_comments_and_addresses() -> None:
    # "A page" 2, "Two words, then a link and inline code." 8; then after the picture "A caption." 2
    assert count(SAMPLE, "sample.md") == Page("sample.md", 12, 10)


def test_a_page_without_a_picture_says_so() -> None:
    assert count("Only words here.").before_first_picture is None


def test_the_lesson_path_is_home_then_the_lesson_section() -> None:
    everything, lesson = nav_pages()
    assert lesson[0] == "index.md"
    assert "lesson/index.md" in lesson
    assert "glossary.md" in everything
    assert set(lesson) < set(everything)


def test_the_budgets_hold() -> None:
    pages, lesson = measure()
    assert over_budget(pages, lesson) == []


def test_a_broken_budget_names_the_pages_to_cut() -> None:
    long_home = Page("index.md", LESSON_PATH_WORDS, FIRST_PICTURE + 1)
    long_reference = Page("reference/long.md", SITE_WORDS, None)
    broken = over_budget([long_home, long_reference], [long_home, Page("concurrency.md", 1, 0)])
    assert broken == [
        f"the lesson path is {LESSON_PATH_WORDS + 1} prose words, over {LESSON_PATH_WORDS} "
        "(longest: index.md 6000, concurrency.md 1)",
        f"the site is {SITE_WORDS + LESSON_PATH_WORDS} prose words, over {SITE_WORDS} "
        "(longest: reference/long.md 24000, index.md 6000)",
        f"the first picture comes after {FIRST_PICTURE + 1} prose words of the lesson path, over {FIRST_PICTURE}",
    ]
    assert over_budget([long_reference], [Page("index.md", 5, None)])[-1] == "the lesson path has no picture at all"
